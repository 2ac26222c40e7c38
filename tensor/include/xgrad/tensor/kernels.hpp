#pragma once
// Value kernels: the numerical work under every op, on Arrays, with no notion of gradients.
// Each takes any strides and broadcasts like NumPy; results are fresh contiguous arrays unless
// the name ends in '_' (in place). Inputs are checked here, so errors name the op.
#include <cstdint>
#include <string_view>
#include <vector>

#include "xgrad/tensor/array.hpp"
#include "xgrad/tensor/random.hpp"

namespace xgrad::kernels {

// ---- creation -------------------------------------------------------------------------------
Array full(const Shape& shape, double value, DType dtype);
Array arange(double start, double end, double step, DType dtype);
Array linspace(double start, double end, int64_t steps, DType dtype);
Array eye(int64_t n, int64_t m, DType dtype);
Array uniform(const Shape& shape, double low, double high, DType dtype, Generator& gen);
Array normal(const Shape& shape, double mean, double stddev, DType dtype, Generator& gen);
Array randint(const Shape& shape, int64_t low, int64_t high, Generator& gen);  // int64 in [low, high)
void fill_(const Array& a, double value);
void copy_(const Array& dst, const Array& src);  // src broadcasts to dst's shape, dtype converts

// ---- elementwise ----------------------------------------------------------------------------
enum class Unary {
  Neg,
  Abs,
  Sign,
  Exp,
  Log,
  Log1p,
  Sqrt,
  Rsqrt,
  Sin,
  Cos,
  Tanh,
  Sigmoid,
  Relu,
  Gelu,      // exact: x * Phi(x)
  GeluTanh,  // tanh approximation
  Silu,
  Softplus,
  Reciprocal,
  Square,
  LogicalNot,
  Floor,
  Ceil,
  Round,
  Erf
};
Array unary(Unary op, const Array& x);
void unary_(Unary op, const Array& x);  // in place, on a contiguous floating array (same values as unary)

// Unary ops with a parameter.
Array leaky_relu(const Array& x, double slope);
Array elu(const Array& x, double alpha);
Array clamp(const Array& x, double low, double high);  // ±inf for an open side
Array pow_scalar(const Array& x, double exponent);

enum class Binary {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Maximum,
  Minimum,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,  // -> bool
  LogicalAnd,
  LogicalOr,
  LogicalXor,  // -> bool
};
std::string_view name(Binary op);
// Broadcasts, promotes dtypes (bool < int64 < float32 < float64); comparisons give bool.
Array binary(Binary op, const Array& a, const Array& b);
// a = a op b, in place; b broadcasts to a's shape and the result keeps a's dtype.
void binary_(Binary op, const Array& a, const Array& b);
Array binary_scalar(Binary op, const Array& a, double b);  // a op b with b as a's dtype

Array where(const Array& condition, const Array& a, const Array& b);  // condition is bool
Array masked_fill(const Array& a, const Array& mask, double value);

// Fused: relu'(x) * g, the mask product every relu backward needs, and similar.
Array mul_mask(const Array& g, const Array& x, Binary compare, double threshold);  // g * (x cmp threshold)
// Fused: {g * b, g * a}, both gradients of a product in one pass over g, a and b. Only for a and b
// contiguous with g's shape and one floating dtype, g contiguous or a single value expanded:
// `false` otherwise, and the caller multiplies separately.
bool mul_backward(const Array& g, const Array& a, const Array& b, Array& grad_a, Array& grad_b);

// ---- reductions -----------------------------------------------------------------------------
// `dims` empty means every dim. keepdim keeps reduced dims as size 1.
Array sum(const Array& x, const Dims& dims, bool keepdim);
Array sum_to(const Array& x, const Shape& shape);  // reduces a broadcast back to `shape`
Array mean(const Array& x, const Dims& dims, bool keepdim);
Array prod(const Array& x, const Dims& dims, bool keepdim);
Array amax(const Array& x, const Dims& dims, bool keepdim);
Array amin(const Array& x, const Dims& dims, bool keepdim);
Array argmax(const Array& x, int64_t dim, bool keepdim);  // int64
Array argmin(const Array& x, int64_t dim, bool keepdim);
Array argmax_all(const Array& x);  // flat index, 0-d int64
Array argmin_all(const Array& x);
Array var(const Array& x, const Dims& dims, int64_t correction, bool keepdim);
Array logsumexp(const Array& x, const Dims& dims, bool keepdim);
Array any(const Array& x, const Dims& dims, bool keepdim);  // bool
Array all(const Array& x, const Dims& dims, bool keepdim);

// ---- linear algebra -------------------------------------------------------------------------
// Batched, broadcasting matmul on [..., n, k] x [..., k, m] through BLAS GEMM; 1-d operands as in
// NumPy. Both operands must share one floating dtype.
Array matmul(const Array& a, const Array& b);

// ---- indexing and joining -------------------------------------------------------------------
Array cat(const std::vector<Array>& arrays, int64_t dim);
Array index_select(const Array& x, int64_t dim, const Array& index);
// Adds source rows into a zero array of `shape` at `index` along dim (the adjoint of index_select).
Array index_add(const Shape& shape, int64_t dim, const Array& index, const Array& source);
Array gather(const Array& x, int64_t dim, const Array& index);
Array scatter_add(const Array& x, int64_t dim, const Array& index, const Array& source);
Array one_hot(const Array& index, int64_t num_classes);  // int64 -> int64

// ---- fused ----------------------------------------------------------------------------------
Array softmax(const Array& x, int64_t dim);
Array log_softmax(const Array& x, int64_t dim);

// True when any element is NaN or infinite (anomaly mode).
bool has_nonfinite(const Array& x);

}  // namespace xgrad::kernels
