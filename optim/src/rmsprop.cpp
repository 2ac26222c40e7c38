#include "xgrad/optim/rmsprop.hpp"

#include <cmath>

#include "update.hpp"
#include "xgrad/autograd/grad_mode.hpp"

namespace xgrad::optim {

RMSprop::RMSprop(std::vector<Tensor> params, Options options) : RMSprop(one_group(std::move(params)), options) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, Options options)
    : Optimizer("RMSprop", std::move(groups), {options.lr, options.weight_decay, options.momentum},
                {"square_avg", "momentum_buffer", "grad_avg"}),
      options_(options) {
  if (!(options.alpha >= 0)) throw ValueError("RMSprop: invalid alpha " + std::to_string(options.alpha));
  if (!(options.eps >= 0)) throw ValueError("RMSprop: invalid eps " + std::to_string(options.eps));
  for (const ParamGroup& g : param_groups()) check_group(g);
}

void RMSprop::check_group(const ParamGroup& group) const {
  if (!(group.momentum >= 0)) throw ValueError("RMSprop: invalid momentum " + std::to_string(group.momentum));
}

namespace {
struct Step {
  double lr, alpha, eps, weight_decay, momentum;
  bool maximize;
};

// Hinton 2012 lecture 6e (centered: Graves 2013 eq. 38-45): v = a v + (1-a) g^2; p -= lr g / (sqrt(v [- ga^2]) + eps)
// (centered: ga = a ga + (1 - a) g; momentum: b = mu b + g / d, p -= lr b.)
template <typename T, bool kCentered, bool kMomentum> void rmsprop(T* __restrict p, const T* __restrict grad,
                                                                   T* __restrict v, T* __restrict buf, T* __restrict ga,
                                                                   int64_t n, const Step& s) {
  const T lr = static_cast<T>(s.lr), a = static_cast<T>(s.alpha), eps = static_cast<T>(s.eps);
  const T wd = static_cast<T>(s.weight_decay), mu = static_cast<T>(s.momentum);
  const T sign = s.maximize ? T(-1) : T(1);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T g = sign * grad[i] + wd * p[i];
    const T vi = a * v[i] + (T(1) - a) * g * g;
    v[i] = vi;
    T avg;
    if constexpr (kCentered) {
      const T gai = ga[i] + (T(1) - a) * (g - ga[i]);  // PyTorch's lerp form
      ga[i] = gai;
      avg = std::sqrt(vi - gai * gai) + eps;
    } else {
      avg = std::sqrt(vi) + eps;
    }
    if constexpr (kMomentum) {
      const T b = mu * buf[i] + g / avg;
      buf[i] = b;
      p[i] -= lr * b;
    } else {
      p[i] -= lr * (g / avg);
    }
  }
}
}  // namespace

void RMSprop::step() {
  NoGradGuard no_grad;
  for (const ParamGroup& group : param_groups()) {
    check_group(group);
    const Step st{group.lr, options_.alpha, options_.eps, group.weight_decay, group.momentum, options_.maximize};
    for (const Tensor& param : group.params) {
      if (!param.grad().defined()) continue;
      ParamState& s = state(param);
      ++s.step;
      Array& v = buffer(s, 0, param);
      Array* buf = group.momentum > 0 ? &buffer(s, 1, param) : nullptr;
      Array* ga = options_.centered ? &buffer(s, 2, param) : nullptr;
      detail::update_param("RMSprop", param, [&]<typename T>(T* p, const T* g, int64_t n) {
        T* vp = v.data<T>();
        T* bp = buf ? buf->data<T>() : nullptr;
        T* gp = ga ? ga->data<T>() : nullptr;
        if (gp && bp)
          rmsprop<T, true, true>(p, g, vp, bp, gp, n, st);
        else if (gp)
          rmsprop<T, true, false>(p, g, vp, bp, gp, n, st);
        else if (bp)
          rmsprop<T, false, true>(p, g, vp, bp, gp, n, st);
        else
          rmsprop<T, false, false>(p, g, vp, bp, gp, n, st);
      });
    }
  }
}

}  // namespace xgrad::optim
