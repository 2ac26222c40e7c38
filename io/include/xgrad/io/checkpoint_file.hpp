#pragma once
// The checkpoint file: everything a training run needs to continue, in one safetensors file.
//
//   tensors   "model/<name>"       the model's state dict (PyTorch names)
//             "optimizer/<key>"    the optimizer's state tensors ("state.0.exp_avg", ...)
//   metadata  "format"             "xgrad.checkpoint", "version": "1"
//             "number/<key>"       a number, printed with 17 significant digits (exact round trip):
//                                  "epoch", "step", "optimizer/param_groups.0.lr", "scheduler/last_epoch", ...
//             "text/<key>"         a string (the RNG state "rng/default", ...)
//             "history"            the metric names, comma-separated, in order
//             "history/<metric>"   that metric's values per epoch, comma-separated
//
// train::save_checkpoint / load_checkpoint fill and apply it; this layer only writes and checks
// the file, so that a bad file is rejected before anything in a model changes.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xgrad/io/safetensors.hpp"

namespace xgrad::io {

struct CheckpointData {
  NamedTensors model;
  std::map<std::string, Tensor> optimizer;
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> texts;
  std::vector<std::pair<std::string, std::vector<double>>> history;  // metric -> one value per epoch
};

std::string to_checkpoint(const CheckpointData& data);
// IOError naming `source` and the entry for anything malformed: not a checkpoint, another version,
// a number that does not parse, history series of different lengths, a tensor outside the known
// sections, and every safetensors-level problem.
CheckpointData from_checkpoint(std::string_view bytes, const std::string& source = "<memory>");

// The file forms; saving is atomic (see write_file_atomic).
void save_checkpoint_file(const std::string& path, const CheckpointData& data);
CheckpointData load_checkpoint_file(const std::string& path);

}  // namespace xgrad::io
