#pragma once
// NumPy's .npz format: a zip archive with one .npy member "<name>.npy" per array, as numpy.savez
// (stored) and numpy.savez_compressed (deflate) write it. Zip64 archives (numpy writes their
// extra fields) are read too.
#include <string>
#include <string_view>

#include "xgrad/io/named_tensors.hpp"

namespace xgrad::io {

// The archive's bytes, members in the given order, deflate-compressed when `compressed`.
// ValueError for an undefined tensor or a repeated name.
std::string to_npz(const NamedTensors& tensors, bool compressed = false);
void save_npz(const std::string& path, const NamedTensors& tensors, bool compressed = false);  // atomic

// The members in the archive's order, names without ".npy". FormatError (an IOError) naming
// `source`, the member and the fault: a damaged end record or central directory, a member outside
// the file or overlapping another, an unsupported compression method or encryption, compressed
// data that inflates to another size than declared, a CRC mismatch, a member that is not .npy,
// a repeated name, and every .npy problem (see from_npy).
NamedTensors from_npz(std::string_view bytes, const std::string& source = "<memory>");
NamedTensors load_npz(const std::string& path);

}  // namespace xgrad::io
