#pragma once
// Saving and loading a model's named parameters and buffers (its "state dict") in a small binary
// format, until issue 4 brings safetensors. Files are conventionally named model.bin.
//
// Format (all integers little-endian):
//   8 bytes   magic "XGRADPRM"
//   uint32    format version (1)
//   uint64    number of tensors
//   then per tensor, in the model's named_parameters() then named_buffers() order:
//     uint32  name length, then the name's bytes ("fc1.weight")
//     uint8   dtype: 0 bool, 1 int64, 2 float32, 3 float64
//     uint32  number of dims, then each dim as int64
//     the values, row-major, numel * itemsize bytes (IEEE-754 little-endian floats)
#include <string>
#include <utility>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad::nn {
class Module;
}

namespace xgrad::train {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Writes the tensors (to `path`.tmp, then renamed, so a crash never leaves half a file).
// IOError when the file cannot be written.
void save_tensors(const NamedTensors& tensors, const std::string& path);
// IOError naming the file for a missing file, a bad magic or version, or truncated data.
NamedTensors load_tensors(const std::string& path);

// The model's named parameters and buffers.
void save_parameters(const nn::Module& model, const std::string& path);
// Copies the saved values into the model's tensors in place (their handles, and so optimizers
// built on them, stay valid). With strict, a tensor of the model missing from the file or a saved
// one the model lacks is an IOError; a shape or dtype mismatch always is. Names are listed.
void load_parameters(nn::Module& model, const std::string& path, bool strict = true);

}  // namespace xgrad::train
