#pragma once
// A model's state dict as a safetensors file, like Python's safetensors.torch.save_model /
// load_model: the file holds PyTorch's names and layouts, so it loads into the equivalent PyTorch
// model (and a file saved from PyTorch loads here).
//   io::save_model(model, "runs/mlp/model.safetensors");
//   io::load_model(model, "runs/mlp/model.safetensors");            // strict
#include <string>

#include "xgrad/io/safetensors.hpp"
#include "xgrad/nn/module.hpp"

namespace xgrad::io {

// Atomic (see write_file_atomic). IOError when the file cannot be written.
void save_model(const nn::Module& model, const std::string& path, const Metadata& metadata = {});
// Checks the whole file first (IOError naming the file and entry), then Module::load_state_dict:
// strict, a ValueError listing missing, unexpected and mismatched names and nothing loaded; not
// strict, what matches is loaded and the lists come back.
nn::LoadStateDictResult load_model(nn::Module& model, const std::string& path, bool strict = true);

}  // namespace xgrad::io
