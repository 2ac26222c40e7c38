// Differentiable reductions and softmax. Each op checks its input through its kernel, records one
// node, and writes its backward in xgrad ops (so second order works). A reduced gradient goes back
// to the input's shape by restoring the reduced dims as size 1 (kept) and broadcasting (expand).
// Masks that pick elements (which element was the max, where the zeros are) are constants: their
// derivative is zero almost everywhere.
#include "xgrad/autograd/ops/reduce.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "xgrad/autograd/node.hpp"
#include "xgrad/autograd/ops/elementwise.hpp"
#include "xgrad/autograd/ops/shape.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad {
namespace {

using kernels::Binary;

// Normalised dims (every dim for an empty list); errors name the op and the shape.
Dims checked_dims(std::string_view op, const Tensor& x, const Dims& dims) {
  try {
    return normalize_dims(op, dims, x.dim());
  } catch (const IndexError& e) {
    throw IndexError(std::string(e.what()) + " (input shape " + to_string(x.shape()) + ")");
  }
}

int64_t reduced_numel(const Shape& shape, const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= shape[d];
  return n;
}

// A reduced tensor (gradient or output) with its reduced dims restored as size 1, so it
// broadcasts against the input. A 0-d tensor broadcasts as it is.
Tensor kept(const Tensor& t, const Shape& in_shape, const Dims& dims, bool keepdim) {
  if (keepdim || t.dim() == 0) return t;
  return reshape(t, reduced_shape(in_shape, dims, true));
}

Array kept(const Array& a, const Shape& in_shape, const Dims& dims, bool keepdim) {
  if (keepdim || a.dim() == 0) return a;
  return a.reshape(reduced_shape(in_shape, dims, true));
}

// (x == y) / count(x == y) over the reduced dims, in x's dtype: where amax/amin's gradient goes,
// split evenly between ties. x and y_kept are values.
Array tie_weights(const Array& x, const Array& y_kept, const Dims& dims) {
  const Array mask = kernels::binary(Binary::Eq, x, y_kept).to(x.dtype());
  return kernels::binary(Binary::Div, mask, kernels::sum(mask, dims, true));
}

// The one-hot mask of `index` (the reduced shape of argmax along dim) over `shape`, in dtype.
Array index_mask(const Array& index, const Shape& shape, int64_t dim, bool keepdim, DType dtype) {
  if (shape.empty()) return kernels::full({}, 1.0, dtype);
  Shape positions_shape(shape.size() - static_cast<size_t>(dim), 1);
  positions_shape[0] = shape[dim];
  const Array positions = kernels::arange(0, static_cast<double>(shape[dim]), 1, kInt64).view(positions_shape);
  const Array idx = keepdim ? index : index.unsqueeze(dim);
  return kernels::binary(Binary::Eq, positions, idx).to(dtype);
}

// y = amax(x, dims)    dx = dy * (x == y) / count(x == y)   (ties split the gradient evenly)
// y = amin(x, dims)    the same
template <bool kMax> Tensor extremum(std::string_view name, const Tensor& x, const Dims& dims, bool keepdim) {
  Array y = kMax ? kernels::amax(x.array(), dims, keepdim) : kernels::amin(x.array(), dims, keepdim);
  return record(name, std::move(y), {x}, Save::InputsAndOutput,
                [d = checked_dims(name, x, dims), keepdim](const Backward& c) -> Grads {
                  const Shape& s = c.input_shape(0);
                  const Array w = tie_weights(c.input(0).array(), kept(c.output().array(), s, d, keepdim), d);
                  return {kept(c.grad, s, d, keepdim) * Tensor(w)};
                });
}

// y = max(x, dim), i = argmax(x, dim)    dx = dy placed at i along dim, 0 elsewhere
template <bool kMax> ValuesIndices extremum_dim(std::string_view name, const Tensor& x, int64_t dim, bool keepdim) {
  const Dims dims = checked_dims(kMax ? "max" : "min", x, {dim});  // errors say max, not argmax
  const int64_t d = dims.empty() ? 0 : dims[0];
  Array index = kMax ? kernels::argmax(x.array(), d, keepdim) : kernels::argmin(x.array(), d, keepdim);
  Array y = kMax ? kernels::amax(x.array(), dims, keepdim) : kernels::amin(x.array(), dims, keepdim);
  Tensor values = record(name, std::move(y), {x}, Save::Nothing, [d, keepdim, index](const Backward& c) -> Grads {
    const Shape& s = c.input_shape(0);
    const Tensor g = s.empty() || keepdim ? c.grad : unsqueeze(c.grad, d);
    return {g * Tensor(index_mask(index, s, d, keepdim, c.input_dtype(0)))};
  });
  return {std::move(values), Tensor(std::move(index))};
}

}  // namespace

// y = sum(x, dims)    dx = expand(dy, x.shape)
Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  Array y = kernels::sum(x.array(), dims, keepdim);
  // An empty list (every dim) needs no normalising: dy is 0-d, or all ones with keepdim.
  Dims d = dims.empty() ? Dims{} : normalize_dims("sum", dims, x.dim());
  return record("sum", std::move(y), {x}, Save::Nothing, [d = std::move(d), keepdim](const Backward& c) -> Grads {
    return {expand(kept(c.grad, c.input_shape(0), d, keepdim), c.input_shape(0))};
  });
}

// y = x summed down to `shape` (x itself when it has that shape)    dx = expand(dy, x.shape)
Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  return record("sum_to", kernels::sum_to(x.array(), shape), {x}, Save::Nothing,
                [](const Backward& c) -> Grads { return {expand(c.grad, c.input_shape(0))}; });
}

// y = sum(x, dims) / n    dx = expand(dy / n, x.shape)
Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  Array y = kernels::mean(x.array(), dims, keepdim);
  Dims d = normalize_dims("mean", dims, x.dim());
  const double n = static_cast<double>(reduced_numel(x.shape(), d));
  return record("mean", std::move(y), {x}, Save::Nothing, [d = std::move(d), keepdim, n](const Backward& c) -> Grads {
    return {expand(kept(c.grad, c.input_shape(0), d, keepdim) * (1.0 / n), c.input_shape(0))};
  });
}

// y = prod(x, dims)    dx = dy * (product of the others) = dy * y / x where x != 0; at a zero,
// dy * prod(x with that zero as 1) if it is its slice's only zero, else 0 (any number of zeros is
// exact; the zero-free case costs one pass to look for zeros).
Tensor prod(const Tensor& x, const Dims& dims, bool keepdim) {
  Array y = kernels::prod(x.array(), dims, keepdim);
  Dims d = normalize_dims("prod", dims, x.dim());
  return record("prod", std::move(y), {x}, Save::InputsAndOutput,
                [d = std::move(d), keepdim](const Backward& c) -> Grads {
                  const Tensor xs = c.input(0);
                  const Shape& s = c.input_shape(0);
                  const Tensor dy = kept(c.grad, s, d, keepdim);
                  const Tensor yk = kept(c.output(), s, d, keepdim);
                  const Array zero = kernels::binary_scalar(Binary::Eq, xs.array(), 0.0);
                  if (kernels::any(zero, {}, false).item() == 0) return {dy * yk / xs};
                  const Tensor is_zero(zero);
                  const Tensor x1 = masked_fill(xs, is_zero, 1.0);
                  const Tensor not_single(kernels::binary_scalar(Binary::Ne, kernels::sum(zero, d, true), 1.0));
                  const Tensor at_zero = masked_fill(prod(x1, d, true), not_single, 0.0);
                  return {dy * where(is_zero, at_zero, yk / x1)};
                });
}

Tensor max(const Tensor& x) { return extremum<true>("amax", x, {}, false); }
Tensor min(const Tensor& x) { return extremum<false>("amin", x, {}, false); }
Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) { return extremum<true>("amax", x, dims, keepdim); }
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) { return extremum<false>("amin", x, dims, keepdim); }
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim) { return extremum_dim<true>("max_dim", x, dim, keepdim); }
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_dim<false>("min_dim", x, dim, keepdim);
}

Tensor argmax(const Tensor& x) { return Tensor(kernels::argmax_all(x.array())); }
Tensor argmin(const Tensor& x) { return Tensor(kernels::argmin_all(x.array())); }
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) { return Tensor(kernels::argmax(x.array(), dim, keepdim)); }
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) { return Tensor(kernels::argmin(x.array(), dim, keepdim)); }

// y = sum((x - mean(x))^2) / (n - correction)    dx = dy * 2 (x - mean(x)) / (n - correction)
Tensor var(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  Array y = kernels::var(x.array(), dims, correction, keepdim);
  Dims d = normalize_dims("var", dims, x.dim());
  const double dof = std::max(0.0, static_cast<double>(reduced_numel(x.shape(), d) - correction));
  return record("var", std::move(y), {x}, Save::Inputs,
                [d = std::move(d), keepdim, scale = 2.0 / dof](const Backward& c) -> Grads {
                  const Tensor xs = c.input(0);
                  return {(kept(c.grad, c.input_shape(0), d, keepdim) * scale) * (xs - mean(xs, d, true))};
                });
}

Tensor std(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  return sqrt(var(x, dims, correction, keepdim));
}

// y = log(sum(exp(x)))    dx = dy * exp(x - y)
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  Array y = kernels::logsumexp(x.array(), dims, keepdim);
  Dims d = normalize_dims("logsumexp", dims, x.dim());
  return record("logsumexp", std::move(y), {x}, Save::InputsAndOutput,
                [d = std::move(d), keepdim](const Backward& c) -> Grads {
                  const Shape& s = c.input_shape(0);
                  return {kept(c.grad, s, d, keepdim) * exp(c.input(0) - kept(c.output(), s, d, keepdim))};
                });
}

// y = (sum |x|^p)^(1/p)    dx = dy * sign(x) |x|^(p-1) / y^(p-1), 0 where y = 0; special forms:
// p = 2: dy x / y; p = 1: dy sign(x); p = ±inf: dy sign(x) at the extreme |x| (ties split evenly);
// p = 0 (count of nonzeros): 0.
Tensor norm(const Tensor& x, double p, const Dims& dims, bool keepdim) {
  if (!is_floating(x.dtype()))
    throw DTypeError("norm: expected a floating dtype (float32 or float64), got " + std::string(dtype_name(x.dtype())) +
                     " (input shape " + to_string(x.shape()) + ")");
  if (std::isnan(p)) throw ValueError("norm: p must be a number, got nan");
  Dims d = checked_dims("norm", x, dims);
  using kernels::Unary;
  const Array& xa = x.array();
  const Array a = kernels::unary(Unary::Abs, xa);
  Array y;
  if (p == std::numeric_limits<double>::infinity())
    y = kernels::amax(a, d, keepdim);
  else if (p == -std::numeric_limits<double>::infinity())
    y = kernels::amin(a, d, keepdim);
  else if (p == 0)
    y = kernels::sum(kernels::binary_scalar(Binary::Ne, xa, 0.0).to(x.dtype()), d, keepdim);
  else if (p == 1)
    y = kernels::sum(a, d, keepdim);
  else if (p == 2)
    y = kernels::unary(Unary::Sqrt, kernels::sum(kernels::unary(Unary::Square, xa), d, keepdim));
  else
    y = kernels::pow_scalar(kernels::sum(kernels::pow_scalar(a, p), d, keepdim), 1.0 / p);
  return record("norm", std::move(y), {x}, Save::InputsAndOutput,
                [d = std::move(d), keepdim, p](const Backward& c) -> Grads {
                  const Tensor xs = c.input(0);
                  const Shape& s = c.input_shape(0);
                  const Tensor dy = kept(c.grad, s, d, keepdim);
                  const Tensor yk = kept(c.output(), s, d, keepdim);
                  if (p == 0) return {Tensor(kernels::full(s, 0.0, xs.dtype()))};
                  if (p == 1) return {dy * sign(xs)};
                  if (std::isinf(p))
                    return {(dy * sign(xs)) *
                            Tensor(tie_weights(kernels::unary(kernels::Unary::Abs, xs.array()), yk.array(), d))};
                  const Tensor y_zero(kernels::binary_scalar(Binary::Eq, yk.array(), 0.0));
                  if (p == 2) return {xs * masked_fill(dy / yk, y_zero, 0.0)};
                  return {sign(xs) * pow(abs(xs), p - 1) * masked_fill(dy / pow(yk, p - 1), y_zero, 0.0)};
                });
}

Tensor any(const Tensor& x, const Dims& dims, bool keepdim) { return Tensor(kernels::any(x.array(), dims, keepdim)); }
Tensor all(const Tensor& x, const Dims& dims, bool keepdim) { return Tensor(kernels::all(x.array(), dims, keepdim)); }

// y = softmax(x, dim)    dx = y * (dy - sum(dy * y, dim, keepdim))
Tensor softmax(const Tensor& x, int64_t dim) {
  Array y = kernels::softmax(x.array(), dim);
  Dims d = normalize_dims("softmax", {dim}, x.dim());
  return record("softmax", std::move(y), {x}, Save::Output, [d = std::move(d)](const Backward& c) -> Grads {
    const Tensor out = c.output();
    return {out * (c.grad - sum(c.grad * out, d, true))};
  });
}

// y = x - logsumexp(x, dim)    dx = dy - exp(y) * sum(dy, dim, keepdim)
Tensor log_softmax(const Tensor& x, int64_t dim) {
  Array y = kernels::log_softmax(x.array(), dim);
  Dims d = normalize_dims("log_softmax", {dim}, x.dim());
  return record("log_softmax", std::move(y), {x}, Save::Output, [d = std::move(d)](const Backward& c) -> Grads {
    return {c.grad - exp(c.output()) * sum(c.grad, d, true)};
  });
}

}  // namespace xgrad
