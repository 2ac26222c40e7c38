#include "xgrad/optim/adagrad.hpp"

#include <cmath>

#include "update.hpp"
#include "xgrad/autograd/grad_mode.hpp"

namespace xgrad::optim {

Adagrad::Adagrad(std::vector<Tensor> params, Options options) : Adagrad(one_group(std::move(params)), options) {}

Adagrad::Adagrad(std::vector<ParamGroup> groups, Options options)
    : Optimizer("Adagrad", std::move(groups), {options.lr, options.weight_decay, 0.0}, {"sum"}), options_(options) {
  if (!(options.lr_decay >= 0)) throw ValueError("Adagrad: invalid lr_decay " + std::to_string(options.lr_decay));
  if (!(options.initial_accumulator_value >= 0))
    throw ValueError("Adagrad: invalid initial_accumulator_value " + std::to_string(options.initial_accumulator_value));
  if (!(options.eps >= 0)) throw ValueError("Adagrad: invalid eps " + std::to_string(options.eps));
}

namespace {
struct Step {
  double clr, weight_decay, eps;
  bool maximize;
};

// Duchi et al. 2011, diagonal AdaGrad: s += g^2; p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)
template <typename T> void adagrad(T* p, const T* grad, T* sum, int64_t n, const Step& s) {
  const T clr = static_cast<T>(s.clr), wd = static_cast<T>(s.weight_decay), eps = static_cast<T>(s.eps);
  for (int64_t i = 0; i < n; ++i) {
    T g = s.maximize ? -grad[i] : grad[i];
    if (s.weight_decay != 0) g += wd * p[i];
    sum[i] += g * g;
    p[i] -= clr * (g / (std::sqrt(sum[i]) + eps));
  }
}
}  // namespace

void Adagrad::step() {
  NoGradGuard no_grad;
  for (const ParamGroup& group : param_groups()) {
    for (const Tensor& param : group.params) {
      if (!param.grad().defined()) continue;
      ParamState& s = state(param);
      ++s.step;
      const Step st{group.lr / (1.0 + static_cast<double>(s.step - 1) * options_.lr_decay), group.weight_decay,
                    options_.eps, options_.maximize};
      Array& sum = buffer(s, 0, param, options_.initial_accumulator_value);
      detail::update_param("Adagrad", param,
                           [&]<typename T>(T* p, const T* g, int64_t n) { adagrad<T>(p, g, sum.data<T>(), n, st); });
    }
  }
}

}  // namespace xgrad::optim
