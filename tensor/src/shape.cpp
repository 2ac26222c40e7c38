#include "xgrad/tensor/shape.hpp"

#include <algorithm>

#include "xgrad/tensor/error.hpp"

namespace xgrad {

std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b) {
  if (a == b) return a;
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ShapeError(std::string(op) + ": shapes " + to_string(a) + " and " + to_string(b) +
                       " cannot broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t normalize_dim(std::string_view op, int64_t dim, int64_t ndim) {
  const int64_t bound = std::max<int64_t>(ndim, 1);  // a 0-d tensor accepts dim 0 and -1
  if (dim < -bound || dim >= bound)
    throw IndexError(std::string(op) + ": dim " + std::to_string(dim) + " is out of range for a " +
                     std::to_string(ndim) + "-d tensor");
  return dim < 0 ? dim + bound : dim;
}

Dims normalize_dims(std::string_view op, const Dims& dims, int64_t ndim) {
  Dims out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(ndim == 0 ? (normalize_dim(op, d, 0), 0) : normalize_dim(op, d, ndim));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    throw IndexError(std::string(op) + ": dim " + std::to_string(*std::adjacent_find(out.begin(), out.end())) +
                     " appears more than once");
  if (ndim == 0) out.clear();
  return out;
}

Shape reduced_shape(const Shape& shape, const Dims& dims, bool keepdim) {
  Shape out;
  size_t k = 0;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    const bool reduced = k < dims.size() && dims[k] == d;
    if (reduced) ++k;
    if (!reduced) out.push_back(shape[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

Shape infer_shape(std::string_view op, Shape target, int64_t count) {
  int64_t known = 1;
  int64_t infer_at = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      if (infer_at >= 0) throw ShapeError(std::string(op) + ": only one dim can be -1, got " + to_string(target));
      infer_at = static_cast<int64_t>(i);
    } else if (target[i] < 0) {
      throw ShapeError(std::string(op) + ": invalid shape " + to_string(target));
    } else {
      known *= target[i];
    }
  }
  if (infer_at >= 0) {
    if (known == 0 || count % known != 0)
      throw ShapeError(std::string(op) + ": shape " + to_string(target) + " is invalid for " +
                       std::to_string(count) + " elements");
    target[infer_at] = count / known;
  } else if (known != count) {
    throw ShapeError(std::string(op) + ": shape " + to_string(target) + " is invalid for " +
                     std::to_string(count) + " elements");
  }
  return target;
}

}  // namespace xgrad
