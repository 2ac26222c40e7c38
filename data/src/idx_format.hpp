#pragma once
// The IDX parser on bytes and Arrays, apart from idx.cpp so that the fuzz target (tests/fuzz)
// links it without autograd.
#include <string_view>

#include "xgrad/tensor/array.hpp"

namespace xgrad::data::detail {

// The values of an IDX file's bytes, plain or gzip-compressed: a 1-d file as int64, a file of two
// or more dims as float32 / 255. Every fault is a FormatError "<who>: <source>: <what>".
Array parse_idx(std::string_view who, std::string_view source, std::string_view bytes);

}  // namespace xgrad::data::detail
