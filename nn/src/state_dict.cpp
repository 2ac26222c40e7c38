// Module::state_dict and load_state_dict: PyTorch's names, order and strictness rules.
#include <map>
#include <string>

#include "module_access.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/nn/module.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::nn {
namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// PyTorch's module._save_to_state_dict order: own parameters, own buffers, then each child in
// registration order, recursively. Unlike named_parameters(), nothing is deduplicated: a shared
// submodule or tied weight is listed under every name it is reachable by, as in PyTorch.
void collect(const detail::ModuleState& state, const std::string& prefix, StateDict& out) {
  for (const auto& [name, t] : state.parameters) out.emplace_back(join(prefix, name), t);
  for (const auto& [name, t] : state.buffers) out.emplace_back(join(prefix, name), t);
  for (const auto& [name, child] : state.children)
    collect(detail::ModuleAccess::state(*child), join(prefix, name), out);
}

std::string listed(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + ("'" + name + "'");
  return out;
}

}  // namespace

StateDict Module::state_dict() const {
  StateDict out;
  collect(state(), "", out);
  for (auto& entry : out) entry.second = entry.second.detach();
  return out;
}

LoadStateDictResult Module::load_state_dict(const StateDict& state, bool strict) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, value] : state) {
    if (!value.defined()) throw ValueError("load_state_dict: entry '" + name + "' is an undefined tensor");
    if (!given.emplace(name, &value).second)
      throw ValueError("load_state_dict: the state dict has '" + name + "' twice");
  }

  // Check everything first, so that a strict failure leaves the module unchanged.
  LoadStateDictResult result;
  std::vector<std::pair<Tensor, const Tensor*>> copies;  // (module tensor, value)
  std::string mismatch_details;
  StateDict own;
  collect(this->state(), "", own);
  for (const auto& [name, target] : own) {
    const auto it = given.find(name);
    if (it == given.end()) {
      result.missing_keys.push_back(name);
      continue;
    }
    const Tensor& value = *it->second;
    given.erase(it);
    if (value.shape() != target.shape()) {
      result.mismatched_keys.push_back(name);
      mismatch_details += "; size mismatch for '" + name + "': the state dict has " + xgrad::to_string(value.shape()) +
                          ", the module " + xgrad::to_string(target.shape());
      continue;
    }
    copies.emplace_back(target, &value);
  }
  for (const auto& [name, value] : given) result.unexpected_keys.push_back(name);

  if (strict && !result.ok()) {
    std::string message = "load_state_dict: error(s) loading the state dict of " + type_name();
    if (!result.missing_keys.empty()) message += "; missing key(s): " + listed(result.missing_keys);
    if (!result.unexpected_keys.empty()) message += "; unexpected key(s): " + listed(result.unexpected_keys);
    throw ValueError(message + mismatch_details);
  }
  NoGradGuard no_grad;
  for (const auto& [target, value] : copies) {
    kernels::copy_(target.array(), value->array());  // converts the dtype
    target.array().bump_version();
  }
  return result;
}

}  // namespace xgrad::nn
