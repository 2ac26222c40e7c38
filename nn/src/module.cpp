// Module: registration, traversal, modes, casting and printing. (operator() and summary() are in
// summary.cpp, next to the tracing they share.)
#include "xgrad/nn/module.hpp"

#include <cstdlib>
#include <ostream>
#include <sstream>
#include <typeinfo>
#include <unordered_set>

#include <cxxabi.h>

#include "module_access.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/node.hpp"

namespace xgrad::nn {

Module::Module() : state_(std::make_shared<detail::ModuleState>()) {}
Module::~Module() = default;

Tensor Module::forward(const Tensor&) {
  throw ValueError(type_name() + ": forward is not implemented (override Module::forward)");
}

std::string Module::type_name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);  // NOLINT: __cxa_demangle allocates with malloc
  // Drop namespaces (outside template arguments): "xgrad::nn::Linear" -> "Linear".
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '<')
      ++depth;
    else if (name[i] == '>')
      --depth;
    else if (depth == 0 && name[i] == ':' && i + 1 < name.size() && name[i + 1] == ':')
      start = i + 2;
  }
  return name.substr(start);
}

// ---- registration ------------------------------------------------------------------------------------

void Module::check_new_name(const char* op, const std::string& name) const {
  if (name.empty()) throw ValueError(std::string(op) + ": the name must not be empty");
  if (name.find('.') != std::string::npos)
    throw ValueError(std::string(op) + ": the name '" + name + "' must not contain '.'");
  auto taken = [&name](const auto& entries) {
    for (const auto& entry : entries)
      if (entry.first == name) return true;
    return false;
  };
  if (taken(state_->parameters) || taken(state_->buffers) || taken(state_->children))
    throw ValueError(std::string(op) + ": " + type_name() + " already has a member named '" + name + "'");
}

Tensor Module::register_parameter(std::string name, Tensor value, bool requires_grad) {
  check_new_name("register_parameter", name);
  if (!value.defined()) throw ValueError("register_parameter: '" + name + "' is an undefined tensor");
  if (!value.is_leaf())
    throw ValueError("register_parameter: '" + name + "' must be a leaf tensor (use detach()), it was made by " +
                     std::string(value.grad_fn()->name()));
  if (requires_grad && !value.is_floating_point())
    throw DTypeError("register_parameter: '" + name + "' must be floating to require grad, got " +
                     std::string(dtype_name(value.dtype())));
  value.requires_grad_(requires_grad);
  state_->parameters.emplace_back(std::move(name), value);
  return value;
}

Tensor Module::register_buffer(std::string name, Tensor value) {
  check_new_name("register_buffer", name);
  if (!value.defined()) throw ValueError("register_buffer: '" + name + "' is an undefined tensor");
  state_->buffers.emplace_back(std::move(name), value);
  return value;
}

void Module::register_child(std::string name, std::shared_ptr<Module> module) {
  check_new_name("register_module", name);
  if (!module) throw ValueError("register_module: '" + name + "' is a null module");
  if (module->state_ == state_) throw ValueError("register_module: a module cannot contain itself ('" + name + "')");
  state_->children.emplace_back(std::move(name), std::move(module));
}

std::shared_ptr<Module> Module::register_module(std::string name, std::shared_ptr<Module> module) {
  register_child(std::move(name), module);
  return module;
}

// ---- traversal -----------------------------------------------------------------------------------------

namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// Depth-first walk over (prefix, state) pairs, each state once.
template <class Fn> void walk(detail::ModuleState& root, bool recurse, Fn&& fn) {
  std::unordered_set<const detail::ModuleState*> seen;
  std::vector<std::pair<std::string, detail::ModuleState*>> stack{{"", &root}};
  while (!stack.empty()) {
    auto [prefix, state] = stack.back();
    stack.pop_back();
    if (!seen.insert(state).second) continue;
    fn(prefix, *state);
    if (!recurse) break;
    for (auto it = state->children.rbegin(); it != state->children.rend(); ++it)
      stack.emplace_back(join(prefix, it->first), &detail::ModuleAccess::state(*it->second));
  }
}

template <class Member>
std::vector<std::pair<std::string, Tensor>> named_tensors(detail::ModuleState& root, bool recurse, Member member) {
  std::vector<std::pair<std::string, Tensor>> out;
  std::unordered_set<const TensorImpl*> seen;
  walk(root, recurse, [&](const std::string& prefix, const detail::ModuleState& s) {
    for (const auto& [name, t] : s.*member)
      if (seen.insert(t.impl().get()).second) out.emplace_back(join(prefix, name), t);
  });
  return out;
}

std::vector<Tensor> values_of(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<Tensor> out;
  out.reserve(named.size());
  for (const auto& entry : named) out.push_back(entry.second);
  return out;
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  return named_tensors(*state_, recurse, &detail::ModuleState::parameters);
}
std::vector<Tensor> Module::parameters(bool recurse) const { return values_of(named_parameters(recurse)); }
std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  return named_tensors(*state_, recurse, &detail::ModuleState::buffers);
}
std::vector<Tensor> Module::buffers(bool recurse) const { return values_of(named_buffers(recurse)); }

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& entry : state_->children) out.push_back(entry.second);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const { return state_->children; }

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  std::unordered_set<const detail::ModuleState*> seen;
  std::vector<std::pair<std::string, Module*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [prefix, module] = stack.back();
    stack.pop_back();
    if (!seen.insert(module->state_.get()).second) continue;
    out.emplace_back(prefix, module);
    const auto& kids = module->state_->children;
    for (auto it = kids.rbegin(); it != kids.rend(); ++it)
      stack.emplace_back(join(prefix, it->first), it->second.get());
  }
  return out;
}

std::vector<Module*> Module::modules() {
  std::vector<Module*> out;
  for (const auto& entry : named_modules()) out.push_back(entry.second);
  return out;
}

// ---- state ------------------------------------------------------------------------------------------------

Module& Module::train(bool on) {
  walk(*state_, true, [on](const std::string&, detail::ModuleState& s) { s.training = on; });
  return *this;
}

bool Module::is_training() const { return state_->training; }

void Module::zero_grad() {
  for (const Tensor& p : parameters()) p.set_grad(Tensor());
}

Module& Module::apply(const std::function<void(Module&)>& fn) {
  for (const auto& entry : state_->children) entry.second->apply(fn);
  fn(*this);
  return *this;
}

Module& Module::requires_grad_(bool requires_grad) {
  for (Tensor p : parameters()) {
    if (requires_grad && !p.is_floating_point()) continue;  // integer parameters cannot require grad
    p.requires_grad_(requires_grad);
  }
  return *this;
}

Module& Module::to(DType dtype) {
  NoGradGuard no_grad;
  auto cast = [dtype](const Tensor& t) {
    TensorImpl& impl = *t.impl();
    if (!is_floating(impl.value.dtype()) || impl.value.dtype() == dtype) return;
    impl.value = impl.value.to(dtype);
    if (impl.grad) impl.grad->value = impl.grad->value.to(dtype);
  };
  if (!is_floating(dtype))
    throw DTypeError("Module::to: modules cast to a floating dtype only, got " + std::string(dtype_name(dtype)));
  for (const Tensor& p : parameters()) cast(p);
  for (const Tensor& b : buffers()) cast(b);
  return *this;
}

// ---- printing ---------------------------------------------------------------------------------------------

namespace {

void print_tree(std::ostream& os, const Module& m, int indent) {
  os << m.type_name() << "(" << m.extra_repr();
  const auto children = m.named_children();
  if (children.empty()) {
    os << ")";
    return;
  }
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  os << "\n";
  for (const auto& [name, child] : children) {
    os << pad << "(" << name << "): ";
    print_tree(os, *child, indent + 2);
    os << "\n";
  }
  os << std::string(static_cast<size_t>(indent), ' ') << ")";
}

}  // namespace

std::string Module::to_string() const {
  std::ostringstream os;
  print_tree(os, *this, 0);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Module& module) { return os << module.to_string(); }

}  // namespace xgrad::nn
