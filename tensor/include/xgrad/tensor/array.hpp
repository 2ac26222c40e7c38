#pragma once
// Array: the values of a tensor. A runtime dtype, a shape, strides and an offset (both in
// elements) over shared Storage. Views (transpose, slices, expand, ...) share storage and
// copy nothing; contiguous() copies only when needed. Arrays know nothing of gradients:
// autograd's Tensor wraps one.
#include <cstdint>
#include <memory>
#include <string>

#include "xgrad/tensor/dtype.hpp"
#include "xgrad/tensor/shape.hpp"
#include "xgrad/tensor/storage.hpp"

namespace xgrad {

class Array {
 public:
  Array() = default;  // undefined: holds no storage
  // A new contiguous array with uninitialised values.
  Array(Shape shape, DType dtype);
  // A view of existing storage.
  Array(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset, DType dtype);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numel() const { return numel_; }
  int64_t size(int64_t dim) const;
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  // Typed pointer to the first element; throws DTypeError when T is not the dtype.
  template <typename T> T* data() const {
    if (dtype_v<T> != dtype_) throw_dtype_mismatch(dtype_v<T>);
    return static_cast<T*>(storage_->data()) + offset_;
  }
  void* raw_data() const { return static_cast<char*>(storage_->data()) + offset_ * itemsize(dtype_); }

  // Views: share storage, copy nothing.
  Array as_strided(Shape shape, Strides strides, int64_t offset) const;
  Array view(const Shape& shape) const;  // ShapeError when the strides do not allow it
  Array transpose(int64_t dim0, int64_t dim1) const;
  Array permute(const Dims& order) const;
  Array slice(int64_t dim, int64_t start, int64_t stop, int64_t step = 1) const;  // Python semantics
  Array select(int64_t dim, int64_t index) const;                                // drops `dim`
  Array expand(const Shape& shape) const;
  Array squeeze(int64_t dim) const;
  Array unsqueeze(int64_t dim) const;

  // Copies.
  Array contiguous() const;  // *this when already contiguous
  Array clone() const;       // always a fresh contiguous copy
  Array to(DType dtype) const;
  // Reshape: a view when the strides allow, a copy otherwise.
  Array reshape(const Shape& shape) const;

  // Element access (row-major flat index into the logical shape, or a multi-index).
  double item() const;  // ValueError unless numel() == 1
  double at(const Shape& index) const;
  void set(const Shape& index, double value) const;

  std::string to_string() const;

  // In-place writes bump the storage version so that autograd notices.
  void bump_version() const { storage_->bump_version(); }
  uint64_t version() const { return storage_ ? storage_->version() : 0; }

 private:
  [[noreturn]] void throw_dtype_mismatch(DType requested) const;
  int64_t element_offset(const Shape& index) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
  int64_t numel_ = 0;
  DType dtype_ = DType::Float32;
};

}  // namespace xgrad
