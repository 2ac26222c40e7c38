#pragma once
// What the fuzz targets share: the input as bytes, and the property that a file that loads
// saves and loads back to the same arrays. A parser may reject its input only with an
// xgrad::Error; any other exception, a sanitizer report or a broken round trip is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "format.hpp"

namespace xgrad::fuzz {

inline std::string_view bytes_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what);
  std::abort();
}

inline void expect_same(const Array& a, const Array& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) finding("a round trip changed a dtype or a shape");
  // Empty arrays are exempt: Array::is_contiguous() says false for a fresh [0, 0] (tensor/ issue,
  // reported), and they have no values to misplace.
  if (a.numel() != 0 && (!a.is_contiguous() || !b.is_contiguous())) finding("a loaded array is not contiguous");
  const size_t n = static_cast<size_t>(a.numel()) * itemsize(a.dtype());
  if (n != 0 && std::memcmp(a.raw_data(), b.raw_data(), n) != 0) finding("a round trip changed values");
}

inline void expect_same(const io::detail::NamedArrays& a, const io::detail::NamedArrays& b) {
  if (a.size() != b.size()) finding("a round trip changed the number of tensors");
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first) finding("a round trip changed a name or the order");
    expect_same(a[i].second, b[i].second);
  }
}

}  // namespace xgrad::fuzz
