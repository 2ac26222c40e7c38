#pragma once
// Optimizer: the base of SGD, Adam, AdamW, RMSprop and Adagrad. Parameters live in groups with
// their own learning rate, weight decay and momentum (schedulers change these); per-parameter state
// (moments, step counts) is created on the first step and kept by parameter identity.
//   optim::Adam opt(model.parameters(), {.lr = 1e-3});
//   optim::SGD sgd({{.params = body.parameters()}, {.params = head.parameters(), .lr = 0.1}},
//                  {.lr = 0.01, .momentum = 0.9});
//   loss.backward(); opt.step(); opt.zero_grad();
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad::optim {

struct ParamGroup {
  std::vector<Tensor> params = {};
  double lr = -1;            // negative: the optimizer's default
  double weight_decay = -1;  // negative: the optimizer's default
  double momentum = -1;      // SGD's and RMSprop's momentum, Adam's beta1; negative: the default
  double initial_lr = -1;    // set by the first LR scheduler: the lr its schedule starts from
};

// An optimizer's whole state as named values (PyTorch's state_dict layout, flattened):
//   scalars "param_groups.<g>.lr", ".weight_decay", ".momentum", ".initial_lr", ".size"
//           "state.<i>.step"     (i: the parameter's position across all groups, in order)
//   tensors "state.<i>.<buffer>" (exp_avg, exp_avg_sq, momentum_buffer, ...)
struct OptimizerState {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, double> scalars;
};

class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient; runs without recording and writes the
  // parameters in place (their tensor handles are unchanged).
  virtual void step() = 0;
  // Clears the gradients (undefined, like PyTorch's set_to_none=True).
  void zero_grad();
  const std::string& name() const { return name_; }  // "Adam"

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  // Adds a group; its unset hyperparameters take the optimizer's defaults.
  void add_param_group(ParamGroup group);
  // Whether the optimizer has a momentum (or beta1) that OneCycleLR may cycle.
  virtual bool has_momentum() const { return true; }

  // A copy of the state (tensors are cloned), and its restoration: an optimizer of the same kind
  // over parameters of the same shapes continues exactly as the saved one would have.
  OptimizerState state_dict() const;
  void load_state_dict(const OptimizerState& state);

 protected:
  struct Defaults {
    double lr;
    double weight_decay;
    double momentum;
  };
  // `buffers` names the per-parameter state arrays, in the order of ParamState::buffers.
  Optimizer(std::string name, std::vector<ParamGroup> groups, Defaults defaults, std::vector<std::string> buffers);
  static std::vector<ParamGroup> one_group(std::vector<Tensor> params);

  struct ParamState {
    int64_t step = 0;
    std::vector<Array> buffers;  // undefined until first used; contiguous, the parameter's shape and dtype
  };
  // The state of `param`, created empty on first use.
  ParamState& state(const Tensor& param);
  // Buffer `i` of `s`, created filled with `fill` when missing (or converted when the parameter
  // changed dtype since).
  static Array& buffer(ParamState& s, size_t i, const Tensor& param, double fill = 0.0);

 private:
  std::string name_;
  std::vector<ParamGroup> groups_;
  Defaults defaults_;
  std::vector<std::string> buffer_names_;
  std::unordered_map<const TensorImpl*, ParamState> state_;
};

}  // namespace xgrad::optim
