#pragma once
// Tensor: an Array of values plus its place in the computation graph. A cheap handle: copies
// share the same tensor (as in PyTorch), so `Tensor b = a;` is an alias, not a copy.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xgrad/tensor/array.hpp"
#include "xgrad/tensor/random.hpp"

namespace xgrad {

class Node;
struct TensorImpl;

// Options of creation functions, with designated initializers:
//   xg::zeros({2, 3}, {.dtype = xg::kFloat64, .requires_grad = true})
struct TensorOptions {
  DType dtype = kFloat32;
  bool requires_grad = false;
};

class Tensor {
 public:
  Tensor() = default;  // undefined
  explicit Tensor(Array value, bool requires_grad = false);
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- values ---------------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Array& array() const;
  DType dtype() const { return array().dtype(); }
  const Shape& shape() const { return array().shape(); }
  const Strides& strides() const { return array().strides(); }
  int64_t dim() const { return array().dim(); }
  int64_t numel() const { return array().numel(); }
  int64_t size(int64_t d) const { return array().size(d); }
  bool is_contiguous() const { return array().is_contiguous(); }
  bool is_floating_point() const { return is_floating(dtype()); }

  double item() const { return array().item(); }
  template <typename T> T item() const { return static_cast<T>(array().item()); }
  double at(const Shape& index) const { return array().at(index); }
  template <typename T> T* data_ptr() const { return array().data<T>(); }
  // All values in row-major order, converted to T.
  template <typename T> std::vector<T> to_vector() const;
  std::string to_string() const;

  // ---- autograd -------------------------------------------------------------------------------
  bool requires_grad() const;
  Tensor& requires_grad_(bool requires_grad = true);
  bool is_leaf() const;                              // created by the user, not by an op
  const std::shared_ptr<Node>& grad_fn() const;      // the node that made it; null for leaves
  Tensor grad() const;                               // undefined until a backward reaches it
  void set_grad(const Tensor& grad) const;           // assign or clear (pass Tensor{}) .grad
  void retain_grad() const;                          // keep .grad on a non-leaf too
  bool retains_grad() const;
  // dL/dself for every leaf (and retained non-leaf) this tensor depends on. `gradient` defaults
  // to 1 for a one-element tensor; a non-scalar needs one of its own shape. retain_graph defaults
  // to create_graph, as in PyTorch.
  void backward(const Tensor& gradient = {}, std::optional<bool> retain_graph = {}, bool create_graph = false) const;
  Tensor detach() const;                             // same values, no graph
  Tensor& detach_();
  // A hook sees (and may replace, by returning a defined tensor) the gradient flowing into this
  // tensor during backward. Returns a handle for remove_hook.
  using Hook = std::function<Tensor(const Tensor&)>;
  int64_t register_hook(Hook hook) const;
  void remove_hook(int64_t handle) const;
  uint64_t version() const { return array().version(); }  // in-place writes so far

  // ---- in place (bump the version counter) ----------------------------------------------------
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  Tensor& sub_(const Tensor& other);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);
  Tensor& add_(double value);
  Tensor& mul_(double value);
  Tensor& zero_();
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& source);

  // ---- method forms of the ops in ops/*.hpp ---------------------------------------------------
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose(0, 1) of a matrix
  Tensor permute(const Dims& order) const;
  Tensor slice(int64_t dim, int64_t start, int64_t stop, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor expand(const Shape& shape) const;
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor squeeze(int64_t dim) const;
  Tensor squeeze() const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;

  Tensor sum(const Dims& dims = {}, bool keepdim = false) const;
  Tensor mean(const Dims& dims = {}, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor argmin(int64_t dim, bool keepdim = false) const;

  Tensor neg() const;
  Tensor abs() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor pow(double exponent) const;
  Tensor matmul(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- creation ---------------------------------------------------------------------------------
Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor scalar_tensor(double value, TensorOptions options = {});
Tensor arange(double end, TensorOptions options = {.dtype = kInt64});
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {.dtype = kInt64});
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, int64_t m = -1, TensorOptions options = {});
Tensor rand(const Shape& shape, TensorOptions options = {});   // uniform [0, 1)
Tensor randn(const Shape& shape, TensorOptions options = {});  // standard normal
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options = {.dtype = kInt64});
Tensor rand(const Shape& shape, Generator& gen, TensorOptions options = {});
Tensor randn(const Shape& shape, Generator& gen, TensorOptions options = {});
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen,
               TensorOptions options = {.dtype = kInt64});
Tensor zeros_like(const Tensor& t, TensorOptions options);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor randn_like(const Tensor& t);

// From values: tensor(std::vector<float>{...}, {2, 3}) or nested lists tensor({{1., 2.}, {3., 4.}}).
// The dtype follows the C++ element type (float, double, int64_t, bool) unless options say otherwise.
template <typename T> Tensor tensor(const std::vector<T>& values, const Shape& shape);
template <typename T> Tensor tensor(std::initializer_list<T> values);
template <typename T> Tensor tensor(std::initializer_list<std::initializer_list<T>> values);
template <typename T> Tensor tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> values);
Tensor tensor(std::initializer_list<int> values);  // integer literals give int64
Tensor tensor(std::initializer_list<std::initializer_list<int>> values);
Tensor from_array(const Array& values, bool requires_grad = false);

}  // namespace xgrad
