// The checkpoint file's public, Tensor-level side (the format itself: checkpoint_format.cpp).
#include "xgrad/io/checkpoint_file.hpp"

#include "checkpoint_format.hpp"
#include "xgrad/io/atomic_file.hpp"

namespace xgrad::io {
namespace {

detail::CheckpointArrays arrays_of(const CheckpointData& data) {
  detail::CheckpointArrays out;
  out.numbers = data.numbers;
  out.texts = data.texts;
  out.history = data.history;
  for (const auto& [name, t] : data.model) {
    if (!t.defined()) throw ValueError("save_checkpoint: model tensor '" + name + "' is undefined");
    out.model.emplace_back(name, t.array());
  }
  for (const auto& [name, t] : data.optimizer) {
    if (!t.defined()) throw ValueError("save_checkpoint: optimizer tensor '" + name + "' is undefined");
    out.optimizer.emplace(name, t.array());
  }
  return out;
}

CheckpointData tensors_of(detail::CheckpointArrays&& arrays) {
  CheckpointData out;
  out.numbers = std::move(arrays.numbers);
  out.texts = std::move(arrays.texts);
  out.history = std::move(arrays.history);
  for (auto& [name, a] : arrays.model) out.model.emplace_back(name, Tensor(std::move(a)));
  for (auto& [name, a] : arrays.optimizer) out.optimizer.emplace(name, Tensor(std::move(a)));
  return out;
}

}  // namespace

std::string to_checkpoint(const CheckpointData& data) { return detail::write_checkpoint(arrays_of(data)); }

CheckpointData from_checkpoint(std::string_view bytes, const std::string& source) {
  return tensors_of(detail::parse_checkpoint("from_checkpoint", source, bytes));
}

void save_checkpoint_file(const std::string& path, const CheckpointData& data) {
  write_file_atomic(path, to_checkpoint(data));
}

CheckpointData load_checkpoint_file(const std::string& path) {
  return tensors_of(detail::parse_checkpoint("load_checkpoint", path, detail::read_file("load_checkpoint", path)));
}

}  // namespace xgrad::io
