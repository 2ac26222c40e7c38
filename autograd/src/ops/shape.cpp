// Differentiable views and data movement. Views share storage with their input and their
// backward moves the gradient back into the input's shape: a view's inverse view, a sum_to for
// expand, and for slice / select an index_add into zeros, which is itself differentiable (its
// backward is index_select), so second-order gradients flow through every op here.
#include "xgrad/autograd/ops/shape.hpp"

#include <algorithm>
#include <string>

#include "xgrad/autograd/node.hpp"
#include "xgrad/autograd/ops/reduce.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad {
namespace {

// An int64 index of `n` entries start, start + step, ...
Array index_range(int64_t start, int64_t n, int64_t step) {
  Array index({n}, kInt64);
  int64_t* p = index.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = start + i * step;
  return index;
}

Tensor index_select_impl(const Tensor& x, int64_t dim, const Array& index);
Tensor gather_impl(const Tensor& x, int64_t dim, const Array& index);
Tensor scatter_add_impl(const Tensor& x, int64_t dim, const Array& index, const Tensor& source);

// y = zeros(shape) with y.index_select(dim, index) += source    dsource = index_select(dy, dim, index)
Tensor index_add_impl(const Shape& shape, int64_t dim, const Array& index, const Tensor& source) {
  return record("index_add", kernels::index_add(shape, dim, index, source.array()), {source}, Save::Nothing,
                [dim, index](const Backward& c) -> Grads { return {index_select_impl(c.grad, dim, index)}; });
}

// y = x.index_select(dim, index)    dx = index_add(zeros(x.shape), dim, index, dy)
Tensor index_select_impl(const Tensor& x, int64_t dim, const Array& index) {
  return record(
      "index_select", kernels::index_select(x.array(), dim, index), {x}, Save::Nothing,
      [dim, index](const Backward& c) -> Grads { return {index_add_impl(c.input_shape(0), dim, index, c.grad)}; });
}

// y[..i..] = x[..index[..i..]..] along dim    dx = scatter_add(zeros(x.shape), dim, index, dy)
Tensor gather_impl(const Tensor& x, int64_t dim, const Array& index) {
  return record("gather", kernels::gather(x.array(), dim, index), {x}, Save::Nothing,
                [dim, index](const Backward& c) -> Grads {
                  const Tensor zero(kernels::full(c.input_shape(0), 0.0, c.input_dtype(0)));
                  return {scatter_add_impl(zero, dim, index, c.grad)};
                });
}

// y = x; y[..index[..i..]..] += source[..i..] along dim    dx = dy    dsource = gather(dy, dim, index)
Tensor scatter_add_impl(const Tensor& x, int64_t dim, const Array& index, const Tensor& source) {
  return record("scatter_add", kernels::scatter_add(x.array(), dim, index, source.array()), {x, source}, Save::Nothing,
                [dim, index](const Backward& c) -> Grads {
                  return {c.needs(0) ? c.grad : Tensor{}, c.needs(1) ? gather_impl(c.grad, dim, index) : Tensor{}};
                });
}

}  // namespace

// ---- views ------------------------------------------------------------------------------------------

// y = x viewed as `shape`    dx = reshape(dy, x.shape)
Tensor view(const Tensor& x, const Shape& shape) {
  return record("view", x.array().view(shape), {x}, Save::Nothing,
                [](const Backward& c) -> Grads { return {reshape(c.grad, c.input_shape(0))}; });
}

// y = x reshaped (a view when the strides allow, else a copy)    dx = reshape(dy, x.shape)
Tensor reshape(const Tensor& x, const Shape& shape) {
  return record("reshape", x.array().reshape(shape), {x}, Save::Nothing,
                [](const Backward& c) -> Grads { return {reshape(c.grad, c.input_shape(0))}; });
}

// y = x with dims d0, d1 swapped    dx = transpose(dy, d0, d1)
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  return record("transpose", x.array().transpose(dim0, dim1), {x}, Save::Nothing,
                [dim0, dim1](const Backward& c) -> Grads { return {transpose(c.grad, dim0, dim1)}; });
}

// y = x with dims reordered    dx = permute(dy, inverse(order))
Tensor permute(const Tensor& x, const Dims& order) {
  Array y = x.array().permute(order);  // checks the order
  Dims inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i)
    inverse[normalize_dim("permute", order[i], x.dim())] = static_cast<int64_t>(i);
  return record("permute", std::move(y), {x}, Save::Nothing,
                [inverse = std::move(inverse)](const Backward& c) -> Grads { return {permute(c.grad, inverse)}; });
}

// y = x[start:stop:step] along dim    dx = index_add(zeros(x.shape), dim, [start, start + step, ...], dy)
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t stop, int64_t step) {
  Array y = x.array().slice(dim, start, stop, step);  // checks dim and step
  const int64_t d = normalize_dim("slice", dim, x.dim());
  const int64_t n = x.shape()[d];
  const int64_t first = start < 0 ? std::max<int64_t>(start + n, 0) : std::min(start, n);
  const int64_t len = y.shape()[d];
  return record("slice", std::move(y), {x}, Save::Nothing, [d, first, len, step](const Backward& c) -> Grads {
    return {index_add_impl(c.input_shape(0), d, index_range(first, len, step), c.grad)};
  });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  const int64_t d = normalize_dim("narrow", dim, x.dim());
  const int64_t n = x.dim() == 0 ? 1 : x.shape()[d];
  if (start < -n || start > n)
    throw IndexError("narrow: start " + std::to_string(start) + " is out of range for dim " + std::to_string(d) +
                     " of size " + std::to_string(n));
  if (start < 0) start += n;
  if (length < 0 || start + length > n)
    throw IndexError("narrow: start " + std::to_string(start) + " + length " + std::to_string(length) +
                     " exceeds dim " + std::to_string(d) + " of size " + std::to_string(n));
  return slice(x, d, start, start + length);
}

// y = x[..., index, ...] (dim dropped)    dx = index_add(zeros(x.shape), dim, [index], unsqueeze(dy, dim))
Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  Array y = x.array().select(dim, index);  // checks dim and index
  const int64_t d = normalize_dim("select", dim, x.dim());
  const int64_t i = index < 0 ? index + x.shape()[d] : index;
  return record("select", std::move(y), {x}, Save::Nothing, [d, i](const Backward& c) -> Grads {
    return {index_add_impl(c.input_shape(0), d, index_range(i, 1, 1), unsqueeze(c.grad, d))};
  });
}

// y = x broadcast to `shape`    dx = sum_to(dy, x.shape)
Tensor expand(const Tensor& x, const Shape& shape) {
  return record("expand", x.array().expand(shape), {x}, Save::Nothing,
                [](const Backward& c) -> Grads { return {sum_to(c.grad, c.input_shape(0))}; });
}

// y = x without its size-1 dim `dim`    dx = reshape(dy, x.shape)
Tensor squeeze(const Tensor& x, int64_t dim) {
  return record("squeeze", x.array().squeeze(dim), {x}, Save::Nothing,
                [](const Backward& c) -> Grads { return {reshape(c.grad, c.input_shape(0))}; });
}

// y = x without any size-1 dim    dx = reshape(dy, x.shape)
Tensor squeeze(const Tensor& x) {
  Array y = x.array();
  for (int64_t d = x.dim() - 1; d >= 0; --d)
    if (x.shape()[d] == 1) y = y.squeeze(d);
  return record("squeeze", std::move(y), {x}, Save::Nothing,
                [](const Backward& c) -> Grads { return {reshape(c.grad, c.input_shape(0))}; });
}

// y = x with a new size-1 dim at `dim`    dx = squeeze(dy, dim)
Tensor unsqueeze(const Tensor& x, int64_t dim) {
  const int64_t d = normalize_dim("unsqueeze", dim, x.dim() + 1);
  return record("unsqueeze", x.array().unsqueeze(d), {x}, Save::Nothing,
                [d](const Backward& c) -> Grads { return {squeeze(c.grad, d)}; });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  const int64_t s = normalize_dim("flatten", start_dim, x.dim());
  const int64_t e = normalize_dim("flatten", end_dim, x.dim());
  if (s > e)
    throw IndexError("flatten: start_dim " + std::to_string(start_dim) + " comes after end_dim " +
                     std::to_string(end_dim) + " for shape " + to_string(x.shape()));
  if (s == e) return x;
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= x.shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

// ---- copies -----------------------------------------------------------------------------------------

// y = x laid out contiguously (x itself when it already is)    dx = dy
Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return record("contiguous", x.array().contiguous(), {x}, Save::Nothing,
                [](const Backward& c) -> Grads { return {c.grad}; });
}

// y = a copy of x    dx = dy
Tensor clone(const Tensor& x) {
  return record("clone", x.array().clone(), {x}, Save::Nothing, [](const Backward& c) -> Grads { return {c.grad}; });
}

// y = x cast to dtype (x itself when it has it)    dx = to(dy, x.dtype); no gradient into or out of
// integer and bool dtypes
Tensor to(const Tensor& x, DType dtype) {
  if (dtype == x.dtype()) return x;
  if (!is_floating(dtype)) return Tensor(x.array().to(dtype));
  return record("to", x.array().to(dtype), {x}, Save::Nothing,
                [](const Backward& c) -> Grads { return {to(c.grad, c.input_dtype(0))}; });
}

// ---- joining and splitting --------------------------------------------------------------------------

// y = [x0, x1, ...] joined along dim    dxi = slice(dy, dim, offset_i, offset_i + size_i)
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  std::vector<Array> arrays;
  arrays.reserve(tensors.size());
  for (const Tensor& t : tensors) arrays.push_back(t.array());
  Array y = kernels::cat(arrays, dim);  // checks the list, dims, shapes
  const int64_t d = normalize_dim("cat", dim, y.dim());
  const size_t count = tensors.size();
  return record("cat", std::move(y), tensors, Save::Nothing, [d, count](const Backward& c) -> Grads {
    Grads grads(count);
    int64_t offset = 0;
    for (size_t i = 0; i < count; ++i) {
      const int64_t len = c.input_shape(i)[d];
      if (c.needs(i)) {
        grads[i] = slice(c.grad, d, offset, offset + len);
        if (c.input_dtype(i) != c.grad.dtype()) grads[i] = to(grads[i], c.input_dtype(i));
      }
      offset += len;
    }
    return grads;
  });
}

// y = [x0, x1, ...] stacked along a new dim    dxi = select(dy, dim, i)
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw ValueError("stack: expected a non-empty list of tensors");
  const int64_t d = normalize_dim("stack", dim, tensors[0].dim() + 1);
  std::vector<Array> arrays;
  arrays.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].shape() != tensors[0].shape())
      throw ShapeError("stack: tensor " + std::to_string(i) + " has shape " + to_string(tensors[i].shape()) +
                       " but tensor 0 has " + to_string(tensors[0].shape()) + "; they must be equal");
    arrays.push_back(tensors[i].array().unsqueeze(d));
  }
  return record("stack", kernels::cat(arrays, d), tensors, Save::Nothing, [d](const Backward& c) -> Grads {
    const int64_t n = c.grad.shape()[d];
    Grads grads(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      if (!c.needs(static_cast<size_t>(i))) continue;
      Tensor g = select(c.grad, d, i);
      if (c.input_dtype(static_cast<size_t>(i)) != c.grad.dtype()) g = to(g, c.input_dtype(static_cast<size_t>(i)));
      grads[static_cast<size_t>(i)] = g;
    }
    return grads;
  });
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  const int64_t d = normalize_dim("split", dim, x.dim());
  if (x.dim() == 0) throw ShapeError("split: a zero-dimensional tensor cannot be split");
  const int64_t n = x.shape()[d];
  if (split_size <= 0 && !(split_size == 0 && n == 0))
    throw ValueError("split: split_size must be positive, got " + std::to_string(split_size));
  std::vector<Tensor> parts;
  if (n == 0) return {slice(x, d, 0, 0)};
  for (int64_t start = 0; start < n; start += split_size) parts.push_back(slice(x, d, start, start + split_size));
  return parts;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  const int64_t d = normalize_dim("split", dim, x.dim());
  if (x.dim() == 0) throw ShapeError("split: a zero-dimensional tensor cannot be split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) throw ValueError("split: sizes must be non-negative, got " + to_string(sizes));
    total += s;
  }
  if (total != x.shape()[d])
    throw ValueError("split: sizes " + to_string(sizes) + " sum to " + std::to_string(total) + " but dim " +
                     std::to_string(d) + " of shape " + to_string(x.shape()) + " has size " +
                     std::to_string(x.shape()[d]));
  std::vector<Tensor> parts;
  parts.reserve(sizes.size());
  int64_t start = 0;
  for (int64_t s : sizes) {
    parts.push_back(slice(x, d, start, start + s));
    start += s;
  }
  return parts;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  if (chunks <= 0) throw ValueError("chunk: chunks must be positive, got " + std::to_string(chunks));
  const int64_t d = normalize_dim("chunk", dim, x.dim());
  if (x.dim() == 0) throw ShapeError("chunk: a zero-dimensional tensor cannot be chunked");
  const int64_t n = x.shape()[d];
  return split(x, n == 0 ? 0 : (n + chunks - 1) / chunks, d);
}

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  const int64_t d = normalize_dim("unbind", dim, x.dim());
  if (x.dim() == 0) throw ShapeError("unbind: a zero-dimensional tensor cannot be unbound");
  std::vector<Tensor> parts;
  parts.reserve(static_cast<size_t>(x.shape()[d]));
  for (int64_t i = 0; i < x.shape()[d]; ++i) parts.push_back(select(x, d, i));
  return parts;
}

// ---- indexing ---------------------------------------------------------------------------------------

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const Array& idx = index.array();
  return index_select_impl(x, normalize_dim("index_select", dim, std::max<int64_t>(x.dim(), 1)), idx);
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  return gather_impl(x, normalize_dim("gather", dim, std::max<int64_t>(x.dim(), 1)), index.array());
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source) {
  const int64_t d = normalize_dim("scatter_add", dim, std::max<int64_t>(x.dim(), 1));
  // Only the part of source that the index covers is added; cut it to the index's shape so that
  // its gradient, gather(dy, index), has the shape of what was used (slice pads the rest with 0).
  Tensor src = source;
  if (source.dim() == index.dim() && source.shape() != index.shape())
    for (int64_t e = 0; e < source.dim(); ++e)
      if (index.shape()[e] < source.shape()[e]) src = slice(src, e, 0, index.shape()[e]);
  return scatter_add_impl(x, d, index.array(), src);
}

Tensor one_hot(const Tensor& index, int64_t num_classes) {
  return Tensor(kernels::one_hot(index.array(), num_classes));
}

}  // namespace xgrad
