#pragma once
// The library's own access to a module's shared state (private to nn/src).
#include "xgrad/nn/module.hpp"

namespace xgrad::nn::detail {

struct ModuleAccess {
  static ModuleState& state(const Module& m) { return *m.state_; }
};

}  // namespace xgrad::nn::detail
