#pragma once
// The file formats on Arrays: parsing and writing bytes, nothing of autograd. The public functions
// (tensor_io.cpp) wrap these in Tensors, and the fuzz targets (tests/fuzz) link these files with
// tensor/src/{array,shape}.cpp only, so an instrumented build compiles a handful of files.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xgrad/io/named_tensors.hpp"
#include "xgrad/tensor/array.hpp"
#include "xgrad/tensor/error.hpp"

namespace xgrad::io::detail {

using NamedArrays = std::vector<std::pair<std::string, Array>>;

// Where an error happened: "load_safetensors: model.safetensors: tensor 'fc1.weight'".
class Context {
 public:
  Context(std::string_view who, std::string_view source) : prefix_(std::string(who) + ": " + std::string(source)) {}
  Context entry(std::string_view what) const { return Context(prefix_ + ": " + std::string(what)); }
  [[noreturn]] void fail(const std::string& what) const { throw FormatError(prefix_ + ": " + what); }
  const std::string& prefix() const { return prefix_; }

 private:
  explicit Context(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string prefix_;
};

// The element types found in files. Loaded as: floats F16, BF16, F32 -> float32, F64 -> float64,
// the integers -> int64, Bool -> bool.
enum class Elem : uint8_t { Bool, U8, I8, U16, I16, U32, I32, U64, I64, F16, BF16, F32, F64 };

size_t elem_size(Elem e);
DType loaded_dtype(Elem e);
Elem elem_of(DType t);  // the element type a dtype is saved as

// The number of elements of `shape`, checked (a FormatError through `ctx` otherwise): dims must be
// non-negative, and the product of the non-zero dims times the wider of e's stored and loaded
// sizes must fit in int64, so that no byte count or stride overflows even when a zero dim makes
// the count 0.
int64_t checked_numel(const Context& ctx, const Shape& shape, Elem e);

// A fresh contiguous Array of `shape` from `n = numel(shape)` packed elements at `src` (exactly
// n * elem_size(e) bytes), little-endian unless `big_endian`. Booleans other than 0 and 1 read
// as true; a U64 above 2^63 - 1 is a FormatError through `ctx`.
Array decode(const Context& ctx, Elem e, bool big_endian, const char* src, const Shape& shape);

// The values of `a` (any layout) as packed little-endian elements of elem_of(a.dtype()).
void append_values(std::string& out, const Array& a);
void write_values(std::ostream& out, const Array& a);

// Up to `max` bytes of `s` for an error message: printable ASCII as is, other bytes as \xHH,
// "..." when cut.
std::string shown(std::string_view s, size_t max = 64);

// "[3, 4]" for any list of integers.
std::string list_string(const std::vector<int64_t>& v);

// float16 / bfloat16 bits to float.
float half_to_float(uint16_t h);
float bfloat16_to_float(uint16_t h);

// atomic_file.hpp's functions with `who` naming the caller in errors ("save_npy: x.npy: ...").
void write_file(std::string_view who, const std::string& path, std::string_view bytes);
void write_file(std::string_view who, const std::string& path, const std::function<void(std::ostream&)>& write);
std::string read_file(std::string_view who, const std::string& path);

// ---- the formats ------------------------------------------------------------------------------
// `who` names the public function in errors ("load_npy"), `source` the file ("<memory>").

struct SafetensorsArrays {
  NamedArrays arrays;
  Metadata metadata;
};
std::string write_safetensors(std::string_view who, const NamedArrays& arrays, const Metadata& metadata);
// The same in two parts: the length and the header (all checks happen here), then the values of
// each array in order (write_values), so that a file can be streamed without a copy in memory.
std::string safetensors_header(std::string_view who, const NamedArrays& arrays, const Metadata& metadata);
SafetensorsArrays parse_safetensors(std::string_view who, std::string_view source, std::string_view bytes);

std::string write_npy(const Array& a);
Array parse_npy(const Context& ctx, std::string_view bytes);

std::string write_npz(std::string_view who, const NamedArrays& arrays, bool compressed);
NamedArrays parse_npz(std::string_view who, std::string_view source, std::string_view bytes);

}  // namespace xgrad::io::detail
