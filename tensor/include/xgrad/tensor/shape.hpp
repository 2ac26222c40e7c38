#pragma once
// Shapes and strides (in elements), and the shape arithmetic every op shares.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace xgrad {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;
using Dims = std::vector<int64_t>;

// "[3, 4]"
std::string to_string(const Shape& shape);

int64_t numel(const Shape& shape);

// Row-major strides of a contiguous tensor of this shape.
Strides contiguous_strides(const Shape& shape);

// NumPy broadcasting of two shapes; throws ShapeError naming `op` when they cannot broadcast.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

// A possibly negative dim in [-ndim, ndim) made non-negative; throws IndexError naming `op`.
int64_t normalize_dim(std::string_view op, int64_t dim, int64_t ndim);

// Dims normalised, sorted and checked for repeats; an empty list means every dim.
Dims normalize_dims(std::string_view op, const Dims& dims, int64_t ndim);

// The shape left after reducing `dims` (normalised), with or without kept size-1 dims.
Shape reduced_shape(const Shape& shape, const Dims& dims, bool keepdim);

// Resolves one -1 entry of a reshape target against numel; throws ShapeError naming `op`.
Shape infer_shape(std::string_view op, Shape target, int64_t numel);

}  // namespace xgrad
