#pragma once
// Private: how the reduction kernels (reduce.cpp, softmax.cpp) see their input, as a contiguous
// [outer, r, inner] block with the reduced elements in the middle. Rows (inner == 1) are reduced
// with independent vector lanes, columns (inner > 1) a tile of output columns at a time.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "xgrad/tensor/array.hpp"
#include "xgrad/tensor/shape.hpp"

namespace xgrad::kernels::detail {

inline constexpr int64_t kTile = 512;  // output columns accumulated together when inner > 1

struct Plan {
  const void* data = nullptr;
  Array copy;  // holds the permuted copy when one was needed
  int64_t outer = 1;
  int64_t r = 1;
  int64_t inner = 1;
  Shape out_shape;

  template <typename T> const T* src() const { return static_cast<const T*>(data); }
};

// " (input shape [2, 3])", appended to error messages.
std::string shape_note(const Array& x);
void require_defined(std::string_view op, const Array& x);
// Normalised dims; errors name the op and the input's shape.
Dims checked_dims(std::string_view op, const Array& x, const Dims& dims);

// The plan of `op` reducing `dims` of x (empty: all), after checking x and the dims. No copy when
// x is contiguous and the reduced dims are adjacent (size-1 dims in between do not count);
// otherwise the reduced dims are permuted last and copied once, unless that permutation happens
// to be contiguous already (a transposed matrix, for instance).
Plan make_plan(std::string_view op, const Array& x, const Dims& dims, bool keepdim);

// Calls fn(src, dst, n) for every tile of at most kTile columns (inner > 1): src is the offset of
// the tile's first element in the input, dst that of its first result in the [outer, inner]
// output, n its width.
template <typename Fn> void for_each_tile(const Plan& p, Fn&& fn) {
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t j0 = 0; j0 < p.inner; j0 += kTile)
      fn(o * p.r * p.inner + j0, o * p.inner + j0, std::min(kTile, p.inner - j0));
}

}  // namespace xgrad::kernels::detail
