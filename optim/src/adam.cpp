#include "xgrad/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include "update.hpp"
#include "xgrad/autograd/grad_mode.hpp"

namespace xgrad::optim {

Adam::Adam(std::vector<Tensor> params, Options options) : Adam(one_group(std::move(params)), options) {}
Adam::Adam(std::vector<ParamGroup> groups, Options options) : Adam("Adam", std::move(groups), options, false) {}

Adam::Adam(std::string name, std::vector<ParamGroup> groups, Options options, bool decoupled)
    : Optimizer(std::move(name), std::move(groups), {options.lr, options.weight_decay, options.betas.first},
                {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
      options_(options),
      decoupled_(decoupled) {
  if (!(options.eps >= 0)) throw ValueError(this->name() + ": invalid eps " + std::to_string(options.eps));
  if (!(options.betas.second >= 0 && options.betas.second < 1))
    throw ValueError(this->name() + ": invalid beta2 " + std::to_string(options.betas.second) + " (must be in [0, 1))");
  for (const ParamGroup& g : param_groups()) check_group(g);
}

void Adam::check_group(const ParamGroup& group) const {
  if (!(group.momentum >= 0 && group.momentum < 1))
    throw ValueError(name() + ": invalid beta1 " + std::to_string(group.momentum) + " (must be in [0, 1))");
}

namespace {
AdamOptions as_adam(const AdamWOptions& o) { return {o.lr, o.betas, o.eps, o.weight_decay, o.amsgrad, o.maximize}; }

struct Step {
  double lr, beta1, beta2, eps, weight_decay;
  double step_size;  // lr / (1 - beta1^t)
  double bc2_sqrt;   // sqrt(1 - beta2^t)
  bool decoupled, maximize;
};

// Kingma & Ba 2015, Alg. 1: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr/(1-b1^t) m / (sqrt(v/(1-b2^t)) + eps)
// (AMSGrad, Reddi et al. 2018: v -> max(v_max, v); AdamW, Loshchilov & Hutter 2019, Alg. 2: p *= 1 - lr wd first.)
// Branch-free body (the options become factors) so that the loop vectorises.
template <typename T, bool kAmsgrad> void adam(T* __restrict p, const T* __restrict grad, T* __restrict m,
                                               T* __restrict v, T* __restrict vmax, int64_t n, const Step& s) {
  const T b1 = static_cast<T>(s.beta1), b2 = static_cast<T>(s.beta2), eps = static_cast<T>(s.eps);
  const T sign = s.maximize ? T(-1) : T(1);
  const T l2 = s.decoupled ? T(0) : static_cast<T>(s.weight_decay);
  const T decay = s.decoupled ? static_cast<T>(1.0 - s.lr * s.weight_decay) : T(1);
  const T step_size = static_cast<T>(s.step_size), bc2_sqrt = static_cast<T>(s.bc2_sqrt);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T pi = p[i] * decay;
    const T g = sign * grad[i] + l2 * p[i];
    const T mi = m[i] + (T(1) - b1) * (g - m[i]);  // PyTorch's lerp form of b1 m + (1 - b1) g
    const T vi = b2 * v[i] + (T(1) - b2) * g * g;
    m[i] = mi;
    v[i] = vi;
    T second = vi;
    if constexpr (kAmsgrad) second = vmax[i] = std::max(vmax[i], vi);
    p[i] = pi - step_size * (mi / (std::sqrt(second) / bc2_sqrt + eps));
  }
}
}  // namespace

void Adam::step() {
  NoGradGuard no_grad;
  for (const ParamGroup& group : param_groups()) {
    check_group(group);
    const double beta1 = group.momentum, beta2 = options_.betas.second;
    for (const Tensor& param : group.params) {
      if (!param.grad().defined()) continue;
      ParamState& s = state(param);
      ++s.step;
      const double t = static_cast<double>(s.step);
      const Step st{group.lr,
                    beta1,
                    beta2,
                    options_.eps,
                    group.weight_decay,
                    group.lr / (1.0 - std::pow(beta1, t)),
                    std::sqrt(1.0 - std::pow(beta2, t)),
                    decoupled_,
                    options_.maximize};
      Array& m = buffer(s, 0, param);
      Array& v = buffer(s, 1, param);
      Array* vmax = options_.amsgrad ? &buffer(s, 2, param) : nullptr;
      detail::update_param(name().c_str(), param, [&]<typename T>(T* p, const T* g, int64_t n) {
        if (vmax != nullptr)
          adam<T, true>(p, g, m.data<T>(), v.data<T>(), vmax->data<T>(), n, st);
        else
          adam<T, false>(p, g, m.data<T>(), v.data<T>(), nullptr, n, st);
      });
    }
  }
}

AdamW::AdamW(std::vector<Tensor> params, Options options) : AdamW(one_group(std::move(params)), options) {}
AdamW::AdamW(std::vector<ParamGroup> groups, Options options)
    : Adam("AdamW", std::move(groups), as_adam(options), true) {}

}  // namespace xgrad::optim
