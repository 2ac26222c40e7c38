// The public formats on Tensors: thin wrappers over the Array-level parsers and writers in
// format.hpp (which the fuzz targets exercise without autograd).
#include <ostream>

#include "format.hpp"
#include "xgrad/io/npy.hpp"
#include "xgrad/io/npz.hpp"
#include "xgrad/io/safetensors.hpp"

namespace xgrad::io {
namespace {

detail::NamedArrays arrays_of(std::string_view who, const NamedTensors& tensors) {
  detail::NamedArrays arrays;
  arrays.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) throw ValueError(std::string(who) + ": tensor '" + name + "' is undefined");
    arrays.emplace_back(name, t.array());
  }
  return arrays;
}

// Fresh leaves (requires_grad false) that own the parsed arrays.
NamedTensors tensors_of(detail::NamedArrays&& arrays) {
  NamedTensors tensors;
  tensors.reserve(arrays.size());
  for (auto& [name, a] : arrays) tensors.emplace_back(std::move(name), Tensor(std::move(a)));
  return tensors;
}

const Array& array_of(std::string_view who, const Tensor& t) {
  if (!t.defined()) throw ValueError(std::string(who) + ": the tensor is undefined");
  return t.array();
}

SafetensorsFile safetensors_file(std::string_view who, std::string_view source, std::string_view bytes) {
  detail::SafetensorsArrays parsed = detail::parse_safetensors(who, source, bytes);
  return {tensors_of(std::move(parsed.arrays)), std::move(parsed.metadata)};
}

}  // namespace

// ---- safetensors --------------------------------------------------------------------------------

std::string to_safetensors(const NamedTensors& tensors, const Metadata& metadata) {
  return detail::write_safetensors("to_safetensors", arrays_of("to_safetensors", tensors), metadata);
}

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  // Streamed: the header (which checks everything first), then each tensor's values straight from
  // its memory, without a copy of the whole file.
  const detail::NamedArrays arrays = arrays_of("save_safetensors", tensors);
  const std::string header = detail::safetensors_header("save_safetensors", arrays, metadata);
  detail::write_file("save_safetensors", path, [&](std::ostream& out) {
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& named : arrays) detail::write_values(out, named.second);
  });
}

SafetensorsFile from_safetensors(std::string_view bytes, const std::string& source) {
  return safetensors_file("from_safetensors", source, bytes);
}

SafetensorsFile load_safetensors(const std::string& path) {
  return safetensors_file("load_safetensors", path, detail::read_file("load_safetensors", path));
}

// ---- npy ----------------------------------------------------------------------------------------

std::string to_npy(const Tensor& t) { return detail::write_npy(array_of("to_npy", t)); }

void save_npy(const std::string& path, const Tensor& t) {
  detail::write_file("save_npy", path, detail::write_npy(array_of("save_npy", t)));
}

Tensor from_npy(std::string_view bytes, const std::string& source) {
  return Tensor(detail::parse_npy(detail::Context("from_npy", source), bytes));
}

Tensor load_npy(const std::string& path) {
  return Tensor(detail::parse_npy(detail::Context("load_npy", path), detail::read_file("load_npy", path)));
}

// ---- npz ----------------------------------------------------------------------------------------

std::string to_npz(const NamedTensors& tensors, bool compressed) {
  return detail::write_npz("to_npz", arrays_of("to_npz", tensors), compressed);
}

void save_npz(const std::string& path, const NamedTensors& tensors, bool compressed) {
  detail::write_file("save_npz", path, detail::write_npz("save_npz", arrays_of("save_npz", tensors), compressed));
}

NamedTensors from_npz(std::string_view bytes, const std::string& source) {
  return tensors_of(detail::parse_npz("from_npz", source, bytes));
}

NamedTensors load_npz(const std::string& path) {
  return tensors_of(detail::parse_npz("load_npz", path, detail::read_file("load_npz", path)));
}

}  // namespace xgrad::io
