#pragma once
// The two containers every file format here reads and writes.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad::io {

// Named tensors in a kept order (a model's state dict: "fc1.weight", "fc1.bias", ...).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
// Free-form string key/value pairs stored next to the tensors (safetensors' "__metadata__").
using Metadata = std::map<std::string, std::string>;

}  // namespace xgrad::io
