#include "xgrad/optim/sgd.hpp"

#include "update.hpp"
#include "xgrad/autograd/grad_mode.hpp"

namespace xgrad::optim {

SGD::SGD(std::vector<Tensor> params, Options options) : SGD(one_group(std::move(params)), options) {}

SGD::SGD(std::vector<ParamGroup> groups, Options options)
    : Optimizer("SGD", std::move(groups), {options.lr, options.weight_decay, options.momentum}, {"momentum_buffer"}),
      options_(options) {
  if (!(options.dampening >= 0)) throw ValueError("SGD: invalid dampening " + std::to_string(options.dampening));
  for (const ParamGroup& g : param_groups()) check_group(g);
}

void SGD::check_group(const ParamGroup& group) const {
  if (!(group.momentum >= 0)) throw ValueError("SGD: invalid momentum " + std::to_string(group.momentum));
  if (options_.nesterov && (group.momentum <= 0 || options_.dampening != 0))
    throw ValueError("SGD: nesterov momentum requires a momentum > 0 and zero dampening");
}

namespace {
struct Step {
  double lr, weight_decay, momentum, dampening;
  bool nesterov, maximize, first;
};

// Sutskever et al. 2013, eq. 1-2 (PyTorch's form): b = mu b + (1 - dampening) g; p -= lr (nesterov ? g + mu b : b)
// (g includes wd p; b = g on the first step.)
template <typename T> void sgd(T* p, const T* grad, T* buf, int64_t n, const Step& s) {
  const T lr = static_cast<T>(s.lr), wd = static_cast<T>(s.weight_decay), mu = static_cast<T>(s.momentum);
  const T damp = static_cast<T>(1.0 - s.dampening);
  for (int64_t i = 0; i < n; ++i) {
    T g = s.maximize ? -grad[i] : grad[i];
    if (s.weight_decay != 0) g += wd * p[i];
    if (buf != nullptr) {
      buf[i] = s.first ? g : mu * buf[i] + damp * g;
      g = s.nesterov ? g + mu * buf[i] : buf[i];
    }
    p[i] -= lr * g;
  }
}
}  // namespace

void SGD::step() {
  NoGradGuard no_grad;
  for (const ParamGroup& group : param_groups()) {
    check_group(group);
    for (const Tensor& param : group.params) {
      if (!param.grad().defined()) continue;
      ParamState& s = state(param);
      ++s.step;
      Step st{group.lr,          group.weight_decay, group.momentum, options_.dampening,
              options_.nesterov, options_.maximize,  false};
      Array* buf = nullptr;
      if (group.momentum != 0) {
        st.first = !s.buffers[0].defined();
        buf = &buffer(s, 0, param);
      }
      detail::update_param("SGD", param, [&]<typename T>(T* p, const T* g, int64_t n) {
        sgd<T>(p, g, buf ? buf->data<T>() : nullptr, n, st);
      });
    }
  }
}

}  // namespace xgrad::optim
