#pragma once
// The safetensors format (https://github.com/huggingface/safetensors), as Python's
// safetensors.torch writes and reads it:
//
//   8 bytes    N, the header length, a little-endian uint64
//   N bytes    a JSON object, padded with spaces to a multiple of 8:
//                {"__metadata__": {"key": "value", ...},          (optional, strings only)
//                 "fc1.weight": {"dtype": "F32", "shape": [256, 784], "data_offsets": [0, 802816]}, ...}
//   the rest   the data buffer: each tensor's values, row-major, little-endian, at its data_offsets
//              (relative to the buffer's start); the tensors cover the buffer exactly, without holes
//
// Saved dtypes: F32, F64, I64 and BOOL (xgrad's four). Loaded in addition: F16 and BF16 (as
// float32) and U8, I8, U16, I16, U32, I32, U64 (as int64; a U64 value above 2^63 - 1 is an error).
#include <string>
#include <string_view>

#include "xgrad/io/named_tensors.hpp"

namespace xgrad::io {

struct SafetensorsFile {
  NamedTensors tensors;  // in the header's order
  Metadata metadata;
};

// The file's bytes. Non-contiguous tensors are saved by value. ValueError for an undefined tensor,
// a repeated name, the reserved name "__metadata__", or a name or metadata that is not UTF-8.
std::string to_safetensors(const NamedTensors& tensors, const Metadata& metadata = {});
// Atomic (see write_file_atomic).
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});

// Every tensor is a fresh contiguous leaf owning its memory. Anything malformed throws FormatError
// (an IOError) naming `source`, the tensor and the fault: a header length beyond the file, JSON
// that is not an object of objects, an unknown dtype, a bad or overflowing shape, data_offsets
// that disagree with the shape, fall outside the buffer, overlap or leave a hole, a repeated name.
SafetensorsFile from_safetensors(std::string_view bytes, const std::string& source = "<memory>");
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace xgrad::io
