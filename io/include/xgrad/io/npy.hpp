#pragma once
// NumPy's .npy format (numpy.lib.format, versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", a
// version, a header length, then a Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a newline so that the data starts at a multiple of 64 bytes, then the
// values.
//
// Saved: '<f4', '<f8', '<i8', '|b1' (xgrad's four dtypes; non-contiguous tensors by value).
// Loaded in addition: '<f2' (as float32), 'u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8' (as int64),
// big-endian ('>') variants of all, and fortran_order True (values transposed into row-major).
#include <string>
#include <string_view>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad::io {

std::string to_npy(const Tensor& t);
void save_npy(const std::string& path, const Tensor& t);  // atomic (see write_file_atomic)

// A fresh contiguous leaf. FormatError (an IOError) naming `source` and the fault for a bad magic
// or version, a header that is not the dict above, an unsupported descr (object and structured
// arrays included), a bad or overflowing shape, and data shorter or longer than the shape needs.
Tensor from_npy(std::string_view bytes, const std::string& source = "<memory>");
Tensor load_npy(const std::string& path);

}  // namespace xgrad::io
