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

// Hinton (2012), lecture 6e; centered: Graves (2013), eq. 38-45. v = a v + (1 - a) g^2;
// centered: ga = a ga + (1 - a) g, d = sqrt(v - ga^2) + eps, else d = sqrt(v) + eps;
// momentum: b = mu b + g / d, p -= lr b; else p -= lr g / d.
template <typename T> void rmsprop(T* p, const T* grad, T* v, T* buf, T* ga, int64_t n, const Step& s) {
  const T lr = static_cast<T>(s.lr), a = static_cast<T>(s.alpha), eps = static_cast<T>(s.eps);
  const T wd = static_cast<T>(s.weight_decay), mu = static_cast<T>(s.momentum);
  for (int64_t i = 0; i < n; ++i) {
    T g = s.maximize ? -grad[i] : grad[i];
    if (s.weight_decay != 0) g += wd * p[i];
    v[i] = a * v[i] + (T(1) - a) * g * g;
    T avg;
    if (ga != nullptr) {
      ga[i] += (T(1) - a) * (g - ga[i]);  // PyTorch's lerp form
      avg = std::sqrt(v[i] - ga[i] * ga[i]) + eps;
    } else {
      avg = std::sqrt(v[i]) + eps;
    }
    if (buf != nullptr) {
      buf[i] = mu * buf[i] + g / avg;
      p[i] -= lr * buf[i];
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
        rmsprop<T>(p, g, v.data<T>(), buf ? buf->data<T>() : nullptr, ga ? ga->data<T>() : nullptr, n, st);
      });
    }
  }
}

}  // namespace xgrad::optim
