// Joining and indexing kernels: cat, index_select / index_add (an adjoint pair), gather /
// scatter_add (another), one_hot. Index arrays are int64 and are checked against the size of
// the dim they index; negative indices are out of range, as in PyTorch.
#include <algorithm>
#include <cstring>

#include "strided_loop.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::kernels {
namespace {

void check_index_dtype(const char* op, const Array& index) {
  if (index.dtype() != DType::Int64)
    throw DTypeError(std::string(op) + ": index must be int64, got " + std::string(dtype_name(index.dtype())));
}

[[noreturn]] void throw_out_of_range(const char* op, int64_t value, int64_t dim, int64_t size) {
  throw IndexError(std::string(op) + ": index " + std::to_string(value) + " is out of range for dim " +
                   std::to_string(dim) + " of size " + std::to_string(size));
}

// Every value of a contiguous int64 index must lie in [0, size).
void check_range(const char* op, const int64_t* index, int64_t n, int64_t dim, int64_t size) {
  for (int64_t i = 0; i < n; ++i)
    if (index[i] < 0 || index[i] >= size) throw_out_of_range(op, index[i], dim, size);
}

// dst = src for two arrays of one shape and dtype, any strides; contiguous runs are memcpy'd.
void copy_same(const Array& dst, const Array& src) {
  dispatch(dst.dtype(), [&]<typename T>() {
    constexpr int64_t item = sizeof(T);
    detail::for_each_run<2>(dst.shape(), {dst.strides(), src.strides()},
                            {static_cast<char*>(dst.raw_data()), static_cast<char*>(src.raw_data())}, {item, item},
                            [](const detail::Run<2>& r) {
                              if (r.stride[0] == item && r.stride[1] == item) {
                                std::memcpy(r.ptr[0], r.ptr[1], static_cast<size_t>(r.n * item));
                                return;
                              }
                              char* d = r.ptr[0];
                              const char* s = r.ptr[1];
                              for (int64_t i = 0; i < r.n; ++i, d += r.stride[0], s += r.stride[1])
                                *reinterpret_cast<T*>(d) = *reinterpret_cast<const T*>(s);
                            });
  });
}

// Sizes of the dims before and after `dim`, as if the array were [outer, size, inner].
std::pair<int64_t, int64_t> outer_inner(const Shape& shape, int64_t dim) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (int64_t d = dim + 1; d < static_cast<int64_t>(shape.size()); ++d) inner *= shape[d];
  return {outer, inner};
}

void check_not_bool(const char* op, DType t) {
  if (t == DType::Bool) throw DTypeError(std::string(op) + ": bool values cannot be added");
}

}  // namespace

Array cat(const std::vector<Array>& arrays, int64_t dim) {
  if (arrays.empty()) throw ValueError("cat: expected a non-empty list of tensors");
  const Array& first = arrays[0];
  if (first.dim() == 0) throw ShapeError("cat: a zero-dimensional tensor cannot be concatenated");
  const int64_t d = normalize_dim("cat", dim, first.dim());
  Shape shape = first.shape();
  shape[d] = 0;
  DType dtype = first.dtype();
  for (size_t i = 0; i < arrays.size(); ++i) {
    const Shape& s = arrays[i].shape();
    bool match = s.size() == shape.size();
    for (size_t e = 0; match && e < s.size(); ++e) match = static_cast<int64_t>(e) == d || s[e] == first.shape()[e];
    if (!match)
      throw ShapeError("cat: tensor " + std::to_string(i) + " has shape " + to_string(s) + " but tensor 0 has " +
                       to_string(first.shape()) + "; they must match except in dim " + std::to_string(d));
    shape[d] += s[d];
    dtype = promote(dtype, arrays[i].dtype());
  }
  Array out(shape, dtype);
  int64_t offset = 0;
  for (const Array& a : arrays) {
    const int64_t len = a.shape()[d];
    if (len == 0 || a.numel() == 0) continue;
    copy_same(out.slice(d, offset, offset + len), a.dtype() == dtype ? a : a.to(dtype));
    offset += len;
  }
  return out;
}

Array index_select(const Array& x, int64_t dim, const Array& index) {
  check_index_dtype("index_select", index);
  if (index.dim() > 1)
    throw ShapeError("index_select: index must be 0-d or 1-d, got shape " + to_string(index.shape()));
  const Array x1 = x.dim() == 0 ? x.unsqueeze(0) : x;
  const int64_t d = normalize_dim("index_select", dim, x1.dim());
  const int64_t size = x1.shape()[d];
  const Array idx = index.contiguous();
  const int64_t n = idx.numel();
  const int64_t* ip = idx.data<int64_t>();
  check_range("index_select", ip, n, d, size);

  Shape shape = x1.shape();
  shape[d] = n;
  Array out(shape, x.dtype());
  const Array xc = x1.contiguous();
  const auto [outer, inner] = outer_inner(shape, d);
  dispatch(x.dtype(), [&]<typename T>() {
    const T* src = xc.data<T>();
    T* dst = out.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      const T* block = src + o * size * inner;
      if (inner == 1) {
        for (int64_t j = 0; j < n; ++j) dst[j] = block[ip[j]];
      } else {
        for (int64_t j = 0; j < n; ++j)
          std::memcpy(dst + j * inner, block + ip[j] * inner, static_cast<size_t>(inner) * sizeof(T));
      }
      dst += n * inner;
    }
  });
  if (x.dim() == 0) return out.view(index.shape());
  return out;
}

Array index_add(const Shape& shape, int64_t dim, const Array& index, const Array& source) {
  check_index_dtype("index_add", index);
  check_not_bool("index_add", source.dtype());
  if (index.dim() > 1) throw ShapeError("index_add: index must be 0-d or 1-d, got shape " + to_string(index.shape()));
  const Shape shape1 = shape.empty() ? Shape{1} : shape;
  const int64_t d = normalize_dim("index_add", dim, static_cast<int64_t>(shape1.size()));
  const Array idx = index.contiguous();
  const int64_t n = idx.numel();
  Shape expected = shape1;
  expected[d] = n;
  if (numel(source.shape()) != numel(expected) || (source.shape() != expected && !(shape.empty() && source.dim() <= 1)))
    throw ShapeError("index_add: source shape " + to_string(source.shape()) + " does not match " + to_string(expected) +
                     " (shape " + to_string(shape) + " with dim " + std::to_string(d) + " of size " +
                     std::to_string(n) + ")");
  const int64_t size = shape1[d];
  const int64_t* ip = idx.data<int64_t>();
  check_range("index_add", ip, n, d, size);

  Array out(shape, source.dtype());
  std::memset(out.raw_data(), 0, static_cast<size_t>(out.numel()) * itemsize(out.dtype()));
  const Array src = source.contiguous();
  const auto [outer, inner] = outer_inner(shape1, d);
  dispatch(source.dtype(), [&]<typename T>() {
    const T* s = src.data<T>();
    T* dst = out.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      T* block = dst + o * size * inner;
      for (int64_t j = 0; j < n; ++j) {
        T* row = block + ip[j] * inner;
        for (int64_t i = 0; i < inner; ++i) row[i] += s[i];
        s += inner;
      }
    }
  });
  return out;
}

namespace {

// Shared checks of gather and scatter_add: same rank, index no larger than `x` outside `dim`.
void check_gather_shapes(const char* op, const Array& x, const Array& index, int64_t d) {
  if (index.dim() != x.dim())
    throw ShapeError(std::string(op) + ": index shape " + to_string(index.shape()) + " and input shape " +
                     to_string(x.shape()) + " have different numbers of dims");
  for (int64_t e = 0; e < x.dim(); ++e)
    if (e != d && index.shape()[e] > x.shape()[e])
      throw ShapeError(std::string(op) + ": index shape " + to_string(index.shape()) + " exceeds input shape " +
                       to_string(x.shape()) + " outside dim " + std::to_string(d));
}

}  // namespace

Array gather(const Array& x, int64_t dim, const Array& index) {
  check_index_dtype("gather", index);
  const bool scalar = x.dim() == 0 && index.dim() == 0;
  const Array x1 = scalar ? x.unsqueeze(0) : x;
  const Array idx = scalar ? index.unsqueeze(0) : index;
  const int64_t d = normalize_dim("gather", dim, x1.dim());
  check_gather_shapes("gather", x1, idx, d);
  Array out(idx.shape(), x.dtype());
  const int64_t size = x1.shape()[d];
  Strides xs = x1.strides();
  const int64_t step = xs[d];
  xs[d] = 0;  // the index supplies the position along dim
  dispatch(x.dtype(), [&]<typename T>() {
    detail::for_each_run<3>(
        idx.shape(), {out.strides(), idx.strides(), xs},
        {static_cast<char*>(out.raw_data()), static_cast<char*>(idx.raw_data()), static_cast<char*>(x1.raw_data())},
        {sizeof(T), sizeof(int64_t), sizeof(T)}, [&](const detail::Run<3>& r) {
          char* o = r.ptr[0];
          const char* ip = r.ptr[1];
          const char* xp = r.ptr[2];
          for (int64_t i = 0; i < r.n; ++i, o += r.stride[0], ip += r.stride[1], xp += r.stride[2]) {
            const int64_t v = *reinterpret_cast<const int64_t*>(ip);
            if (v < 0 || v >= size) throw_out_of_range("gather", v, d, size);
            *reinterpret_cast<T*>(o) = reinterpret_cast<const T*>(xp)[v * step];
          }
        });
  });
  return scalar ? out.view({}) : out;
}

Array scatter_add(const Array& x, int64_t dim, const Array& index, const Array& source) {
  check_index_dtype("scatter_add", index);
  if (x.dtype() != source.dtype())
    throw DTypeError("scatter_add: dtypes " + std::string(dtype_name(x.dtype())) + " and " +
                     std::string(dtype_name(source.dtype())) + " differ");
  check_not_bool("scatter_add", x.dtype());
  const bool scalar = x.dim() == 0 && index.dim() == 0 && source.dim() == 0;
  const Array x1 = scalar ? x.unsqueeze(0) : x;
  const Array idx = scalar ? index.unsqueeze(0) : index;
  const Array src = scalar ? source.unsqueeze(0) : source;
  const int64_t d = normalize_dim("scatter_add", dim, x1.dim());
  check_gather_shapes("scatter_add", x1, idx, d);
  bool fits = src.dim() == idx.dim();
  for (int64_t e = 0; fits && e < idx.dim(); ++e) fits = idx.shape()[e] <= src.shape()[e];
  if (!fits)
    throw ShapeError("scatter_add: index shape " + to_string(index.shape()) + " exceeds source shape " +
                     to_string(source.shape()));
  Array out = x1.clone();
  const int64_t size = x1.shape()[d];
  Strides os = out.strides();
  const int64_t step = os[d];
  os[d] = 0;
  dispatch(x.dtype(), [&]<typename T>() {
    detail::for_each_run<3>(
        idx.shape(), {os, idx.strides(), src.strides()},
        {static_cast<char*>(out.raw_data()), static_cast<char*>(idx.raw_data()), static_cast<char*>(src.raw_data())},
        {sizeof(T), sizeof(int64_t), sizeof(T)}, [&](const detail::Run<3>& r) {
          char* o = r.ptr[0];
          const char* ip = r.ptr[1];
          const char* sp = r.ptr[2];
          for (int64_t i = 0; i < r.n; ++i, o += r.stride[0], ip += r.stride[1], sp += r.stride[2]) {
            const int64_t v = *reinterpret_cast<const int64_t*>(ip);
            if (v < 0 || v >= size) throw_out_of_range("scatter_add", v, d, size);
            reinterpret_cast<T*>(o)[v * step] += *reinterpret_cast<const T*>(sp);
          }
        });
  });
  return scalar ? out.view({}) : out;
}

Array one_hot(const Array& index, int64_t num_classes) {
  check_index_dtype("one_hot", index);
  const Array idx = index.contiguous();
  const int64_t n = idx.numel();
  const int64_t* ip = idx.data<int64_t>();
  if (num_classes < -1) throw ValueError("one_hot: num_classes must be -1 or >= 0, got " + std::to_string(num_classes));
  if (num_classes == -1) {
    if (n == 0) throw ValueError("one_hot: cannot infer num_classes from an empty index");
    num_classes = *std::max_element(ip, ip + n) + 1;
  }
  for (int64_t i = 0; i < n; ++i)
    if (ip[i] < 0 || ip[i] >= num_classes)
      throw IndexError("one_hot: index " + std::to_string(ip[i]) + " is out of range for " +
                       std::to_string(num_classes) + " classes");
  Shape shape = index.shape();
  shape.push_back(num_classes);
  Array out(shape, DType::Int64);
  int64_t* o = out.data<int64_t>();
  std::fill(o, o + out.numel(), int64_t{0});
  for (int64_t i = 0; i < n; ++i) o[i * num_classes + ip[i]] = 1;
  return out;
}

}  // namespace xgrad::kernels
