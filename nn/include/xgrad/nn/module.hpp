#pragma once
// Module: the base of every layer and of user models. A Module is a cheap handle to shared state
// (like Tensor): copying a Linear gives a second handle to the same layer. A user's model is a
// plain class deriving from Module that registers its parts by name at construction:
//
//   struct Mlp : nn::Module {
//     Mlp() {
//       fc1 = register_module("fc1", nn::Linear({.in = 784, .out = 256}));
//       fc2 = register_module("fc2", nn::Linear({.in = 256, .out = 10}));
//     }
//     Tensor forward(const Tensor& x) override { return fc2(relu(fc1(x))); }
//     nn::Linear fc1, fc2;
//   };
//
// named_parameters() then gives PyTorch's dotted names ("fc1.weight", "fc2.bias") and layouts.
#include <concepts>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad::nn {

class Module;

// Named tensors in order: what state_dict() returns and load_state_dict() takes (io:: saves and
// loads it as safetensors).
using StateDict = std::vector<std::pair<std::string, Tensor>>;

// What load_state_dict() found, by dotted name.
struct LoadStateDictResult {
  std::vector<std::string> missing_keys;     // in the model, not in the state dict
  std::vector<std::string> unexpected_keys;  // in the state dict, not in the model
  std::vector<std::string> mismatched_keys;  // in both, with different shapes (left unloaded)
  bool ok() const { return missing_keys.empty() && unexpected_keys.empty() && mismatched_keys.empty(); }
};

namespace detail {
// What every handle to one module shares.
struct ModuleState {
  std::vector<std::pair<std::string, Tensor>> parameters;  // in registration order
  std::vector<std::pair<std::string, Tensor>> buffers;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children;
  bool training = true;
};
struct ModuleAccess;  // the library's own access to a module's state
}  // namespace detail

class Module {
 public:
  Module();
  virtual ~Module();
  // Copies are handles to the same module; there is no move (a moved-from handle would be empty).
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;

  // The computation. The default throws ValueError naming the module type.
  virtual Tensor forward(const Tensor& input);
  // Calls forward (and records the call while summary() traces the model).
  Tensor operator()(const Tensor& input);

  // "Linear"; by default the class name without namespaces.
  virtual std::string type_name() const;
  // The text inside the parentheses when printed, e.g. "in_features=2, out_features=3, bias=true".
  virtual std::string extra_repr() const { return {}; }

  // ---- registration (names are unique per module and contain no '.') ------------------------------
  // Registers a leaf tensor as a parameter; sets its requires_grad. Returns the same handle.
  Tensor register_parameter(std::string name, Tensor value, bool requires_grad = true);
  // Registers state that is not trained (running statistics, masks...). Returns the same handle.
  Tensor register_buffer(std::string name, Tensor value);
  // Registers a submodule; stores a handle to the same module and returns `module`.
  template <class M>
  requires std::derived_from<M, Module> M register_module(std::string name, M module) {
    register_child(std::move(name), std::make_shared<M>(module));
    return module;
  }
  std::shared_ptr<Module> register_module(std::string name, std::shared_ptr<Module> module);

  // ---- traversal ----------------------------------------------------------------------------------
  // Every parameter of this module and (with recurse) its descendants, depth first in registration
  // order, each tensor once even when shared. Names are dotted paths: "fc1.weight", "0.bias".
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  // Direct submodules.
  std::vector<std::shared_ptr<Module>> children() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // This module and all its descendants, pre-order, each once; self has the name "". The pointers
  // are valid while this module lives.
  std::vector<Module*> modules();
  std::vector<std::pair<std::string, Module*>> named_modules();

  // ---- state ----------------------------------------------------------------------------------------
  // Training mode for this module and its descendants (Dropout is active only in training).
  Module& train(bool on = true);
  Module& eval() { return train(false); }
  bool is_training() const;
  // Clears the gradient of every parameter (sets it undefined, like PyTorch's set_to_none=True).
  void zero_grad();
  // fn on every descendant (children first, depth first) and then on this module.
  Module& apply(const std::function<void(Module&)>& fn);
  // Freezes (false) or unfreezes every parameter of this module and its descendants.
  Module& requires_grad_(bool requires_grad = true);
  // Casts every floating parameter, its gradient and every floating buffer in place: the tensor
  // handles keep their identity, so optimizers built before the cast still see them.
  Module& to(DType dtype);

  // ---- state dict --------------------------------------------------------------------------------
  // Every parameter and buffer by dotted name, in PyTorch's order (a module's parameters, then its
  // buffers, then its children's entries) with PyTorch's names ("fc1.weight", "0.bias",
  // "bn.running_mean"). Each entry is a detached alias of the module's tensor (no copy), so
  // saving it right away saves the current values. A tensor registered under two names (tied
  // weights) appears under both.
  StateDict state_dict() const;
  // Copies values into the module's tensors in place (tensor handles, and so optimizers built on
  // them, stay valid), converting the dtype like torch's copy_. strict: a missing, unexpected or
  // shape-mismatched key is a ValueError listing every such key, and nothing is loaded. Not strict:
  // loads the entries whose name and shape match and returns the lists. A name given twice is a
  // ValueError either way.
  LoadStateDictResult load_state_dict(const StateDict& state, bool strict = true);

  // The module tree as PyTorch prints it.
  std::string to_string() const;
  // A Keras-style table of the layers a forward pass of zeros of `input_shape` (batch included)
  // goes through: name (type), output shape, parameter count, then the totals. Runs in eval mode
  // without recording and restores the training flags afterwards; draws no random numbers.
  std::string summary(const Shape& input_shape);
  void print_summary(const Shape& input_shape);  // to stdout
  void print_summary(const Shape& input_shape, std::ostream& os);

 protected:
  detail::ModuleState& state() const { return *state_; }

 private:
  friend struct detail::ModuleAccess;
  void register_child(std::string name, std::shared_ptr<Module> module);
  void check_new_name(const char* op, const std::string& name) const;

  std::shared_ptr<detail::ModuleState> state_;
};

std::ostream& operator<<(std::ostream& os, const Module& module);

}  // namespace xgrad::nn
