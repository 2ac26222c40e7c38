// Tensor: the handle, its autograd state, creation functions and in-place ops.
#include "xgrad/autograd/tensor.hpp"

#include <cstring>
#include <ostream>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/node.hpp"
#include "xgrad/autograd/ops.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad {

Tensor::Tensor(Array value, bool requires_grad) : impl_(std::make_shared<TensorImpl>()) {
  impl_->value = std::move(value);
  if (requires_grad) requires_grad_(true);
}

const Array& Tensor::array() const {
  if (!impl_) throw ValueError("tensor: use of an undefined tensor");
  return impl_->value;
}

template <typename T> std::vector<T> Tensor::to_vector() const {
  const Array values = array().to(dtype_v<T>).contiguous();
  const T* p = values.data<T>();
  return std::vector<T>(p, p + values.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

std::string Tensor::to_string() const {
  if (!impl_) return "tensor(undefined)";
  std::string s = array().to_string();
  if (requires_grad()) {
    s.pop_back();
    s += impl_->grad_fn ? ", grad_fn=" + std::string(impl_->grad_fn->name()) + ")" : ", requires_grad=true)";
  }
  return s;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

// ---- autograd state -------------------------------------------------------------------------------

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }

Tensor& Tensor::requires_grad_(bool requires_grad) {
  if (!impl_) throw ValueError("requires_grad_: use of an undefined tensor");
  if (impl_->grad_fn && !requires_grad)
    throw AutogradError("requires_grad_: only leaf tensors can stop requiring grad; use detach() on a result of " +
                        std::string(impl_->grad_fn->name()));
  if (requires_grad && !is_floating(dtype()))
    throw DTypeError("requires_grad_: only floating tensors can require grad, got " + std::string(dtype_name(dtype())));
  impl_->requires_grad = requires_grad;
  return *this;
}

bool Tensor::is_leaf() const { return !impl_ || !impl_->grad_fn || dynamic_cast<AccumulateGrad*>(impl_->grad_fn.get()); }

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return impl_ && !is_leaf() ? impl_->grad_fn : none;
}

Tensor Tensor::grad() const { return impl_ && impl_->grad ? Tensor(impl_->grad) : Tensor(); }

void Tensor::set_grad(const Tensor& grad) const {
  if (grad.defined() && grad.shape() != shape())
    throw ShapeError("set_grad: gradient of shape " + xgrad::to_string(grad.shape()) + " for a tensor of shape " +
                     xgrad::to_string(shape()));
  impl_->grad = grad.impl();
}

void Tensor::retain_grad() const {
  if (is_leaf()) return;  // leaves keep .grad anyway
  if (impl_->retains_grad) return;
  impl_->retains_grad = true;
  std::weak_ptr<TensorImpl> weak = impl_;
  impl_->grad_fn->pre_hooks.emplace_back(-1, [weak](const Tensor& g) {
    if (auto impl = weak.lock()) {
      const Tensor stored = is_grad_enabled() ? g : Tensor(g.array().clone());
      impl->grad = impl->grad ? (Tensor(impl->grad) + stored).impl() : stored.impl();
    }
    return Tensor();
  });
}

bool Tensor::retains_grad() const { return impl_ && impl_->retains_grad; }

Tensor Tensor::detach() const { return Tensor(array()); }

Tensor& Tensor::detach_() {
  impl_->grad_fn = nullptr;
  impl_->requires_grad = false;
  return *this;
}

int64_t Tensor::register_hook(Hook hook) const {
  if (!requires_grad())
    throw AutogradError("register_hook: cannot register a hook on a tensor that does not require grad");
  const int64_t id = impl_->next_hook_id++;
  if (is_leaf()) impl_->hooks.emplace_back(id, std::move(hook));
  else impl_->grad_fn->pre_hooks.emplace_back(id, std::move(hook));
  return id;
}

void Tensor::remove_hook(int64_t handle) const {
  auto erase = [handle](auto& hooks) {
    std::erase_if(hooks, [handle](const auto& entry) { return entry.first == handle; });
  };
  erase(impl_->hooks);
  if (!is_leaf()) erase(impl_->grad_fn->pre_hooks);
}

// ---- in place ---------------------------------------------------------------------------------------
// Outside the graph an in-place op writes the values and bumps the version. Inside it (grad mode
// on, some operand requires grad) it computes the out-of-place result from a clone of the old
// value, writes the values, and takes the result's place in the graph ("rebasing" the history).

namespace {

void check_not_leaf(const Tensor& self, const char* op) {
  if (is_grad_enabled() && self.requires_grad() && self.is_leaf())
    throw AutogradError(std::string(op) +
                        ": a leaf tensor that requires grad cannot be changed in place while recording; use "
                        "NoGradGuard (as optimizers do) or clone() it first");
}

void rebase(Tensor& self, const Tensor& result) {
  kernels::copy_(self.array(), result.array());
  self.impl()->grad_fn = result.impl()->grad_fn;
  self.impl()->requires_grad = result.requires_grad();
}

}  // namespace

#define XGRAD_INPLACE_BINARY(method, kernel_op, expression)                                        \
  Tensor& Tensor::method(const Tensor& other) {                                                   \
    check_not_leaf(*this, #method);                                                                \
    if (is_grad_enabled() && (requires_grad() || other.requires_grad())) {                        \
      const Tensor self = xgrad::clone(*this);                                                     \
      rebase(*this, expression);                                                             \
      return *this;                                                                                \
    }                                                                                              \
    kernels::binary_(kernels::Binary::kernel_op, array(), other.array());                          \
    array().bump_version();                                                                        \
    return *this;                                                                                  \
  }

XGRAD_INPLACE_BINARY(sub_, Sub, self - other)
XGRAD_INPLACE_BINARY(mul_, Mul, self * other)
XGRAD_INPLACE_BINARY(div_, Div, self / other)
#undef XGRAD_INPLACE_BINARY

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  check_not_leaf(*this, "add_");
  if (is_grad_enabled() && (requires_grad() || other.requires_grad())) {
    rebase(*this, alpha == 1.0 ? xgrad::clone(*this) + other : xgrad::clone(*this) + other * alpha);
    return *this;
  }
  if (alpha == 1.0) kernels::binary_(kernels::Binary::Add, array(), other.array());
  else kernels::binary_(kernels::Binary::Add, array(), kernels::binary_scalar(kernels::Binary::Mul, other.array(), alpha));
  array().bump_version();
  return *this;
}

Tensor& Tensor::add_(double value) {
  check_not_leaf(*this, "add_");
  if (is_grad_enabled() && requires_grad()) {
    rebase(*this, xgrad::clone(*this) + value);
    return *this;
  }
  kernels::binary_(kernels::Binary::Add, array(), kernels::full({}, value, dtype()));
  array().bump_version();
  return *this;
}

Tensor& Tensor::mul_(double value) {
  check_not_leaf(*this, "mul_");
  if (is_grad_enabled() && requires_grad()) {
    rebase(*this, xgrad::clone(*this) * value);
    return *this;
  }
  kernels::binary_(kernels::Binary::Mul, array(), kernels::full({}, value, dtype()));
  array().bump_version();
  return *this;
}

Tensor& Tensor::zero_() { return fill_(0.0); }

Tensor& Tensor::fill_(double value) {
  check_not_leaf(*this, "fill_");
  kernels::fill_(array(), value);
  array().bump_version();
  if (is_grad_enabled() && impl_->grad_fn) {  // the values no longer depend on anything
    impl_->grad_fn = nullptr;
    impl_->requires_grad = false;
  }
  return *this;
}

Tensor& Tensor::copy_(const Tensor& source) {
  check_not_leaf(*this, "copy_");
  if (is_grad_enabled() && source.requires_grad()) {
    rebase(*this, xgrad::to(xgrad::expand(source, shape()), dtype()));
    return *this;
  }
  kernels::copy_(array(), source.array());
  array().bump_version();
  if (is_grad_enabled() && impl_->grad_fn) {
    impl_->grad_fn = nullptr;
    impl_->requires_grad = false;
  }
  return *this;
}

// ---- method forms ------------------------------------------------------------------------------------

Tensor Tensor::reshape(const Shape& s) const { return xgrad::reshape(*this, s); }
Tensor Tensor::view(const Shape& s) const { return xgrad::view(*this, s); }
Tensor Tensor::transpose(int64_t d0, int64_t d1) const { return xgrad::transpose(*this, d0, d1); }
Tensor Tensor::t() const {
  if (dim() != 2) throw ShapeError("t: expected a 2-d tensor, got shape " + xgrad::to_string(shape()));
  return xgrad::transpose(*this, 0, 1);
}
Tensor Tensor::permute(const Dims& order) const { return xgrad::permute(*this, order); }
Tensor Tensor::slice(int64_t d, int64_t start, int64_t stop, int64_t step) const {
  return xgrad::slice(*this, d, start, stop, step);
}
Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const { return xgrad::narrow(*this, d, start, length); }
Tensor Tensor::select(int64_t d, int64_t index) const { return xgrad::select(*this, d, index); }
Tensor Tensor::expand(const Shape& s) const { return xgrad::expand(*this, s); }
Tensor Tensor::squeeze(int64_t d) const { return xgrad::squeeze(*this, d); }
Tensor Tensor::squeeze() const { return xgrad::squeeze(*this); }
Tensor Tensor::unsqueeze(int64_t d) const { return xgrad::unsqueeze(*this, d); }
Tensor Tensor::flatten(int64_t start, int64_t end) const { return xgrad::flatten(*this, start, end); }
Tensor Tensor::contiguous() const { return xgrad::contiguous(*this); }
Tensor Tensor::clone() const { return xgrad::clone(*this); }
Tensor Tensor::to(DType t) const { return xgrad::to(*this, t); }
Tensor Tensor::sum(const Dims& dims, bool keepdim) const { return xgrad::sum(*this, dims, keepdim); }
Tensor Tensor::mean(const Dims& dims, bool keepdim) const { return xgrad::mean(*this, dims, keepdim); }
Tensor Tensor::max() const { return xgrad::max(*this); }
Tensor Tensor::min() const { return xgrad::min(*this); }
Tensor Tensor::argmax(int64_t d, bool keepdim) const { return xgrad::argmax(*this, d, keepdim); }
Tensor Tensor::argmin(int64_t d, bool keepdim) const { return xgrad::argmin(*this, d, keepdim); }
Tensor Tensor::neg() const { return xgrad::neg(*this); }
Tensor Tensor::abs() const { return xgrad::abs(*this); }
Tensor Tensor::exp() const { return xgrad::exp(*this); }
Tensor Tensor::log() const { return xgrad::log(*this); }
Tensor Tensor::sqrt() const { return xgrad::sqrt(*this); }
Tensor Tensor::tanh() const { return xgrad::tanh(*this); }
Tensor Tensor::sigmoid() const { return xgrad::sigmoid(*this); }
Tensor Tensor::relu() const { return xgrad::relu(*this); }
Tensor Tensor::pow(double exponent) const { return xgrad::pow(*this, exponent); }
Tensor Tensor::matmul(const Tensor& other) const { return xgrad::matmul(*this, other); }
Tensor Tensor::softmax(int64_t d) const { return xgrad::softmax(*this, d); }
Tensor Tensor::log_softmax(int64_t d) const { return xgrad::log_softmax(*this, d); }

// ---- creation -------------------------------------------------------------------------------------------

namespace {
Tensor make(Array value, const TensorOptions& options) { return Tensor(std::move(value), options.requires_grad); }
}  // namespace

Tensor empty(const Shape& shape, TensorOptions o) { return make(Array(shape, o.dtype), o); }
Tensor zeros(const Shape& shape, TensorOptions o) { return make(kernels::full(shape, 0.0, o.dtype), o); }
Tensor ones(const Shape& shape, TensorOptions o) { return make(kernels::full(shape, 1.0, o.dtype), o); }
Tensor full(const Shape& shape, double value, TensorOptions o) { return make(kernels::full(shape, value, o.dtype), o); }
Tensor scalar_tensor(double value, TensorOptions o) { return make(kernels::full({}, value, o.dtype), o); }
Tensor arange(double end, TensorOptions o) { return make(kernels::arange(0, end, 1, o.dtype), o); }
Tensor arange(double start, double end, double step, TensorOptions o) {
  return make(kernels::arange(start, end, step, o.dtype), o);
}
Tensor linspace(double start, double end, int64_t steps, TensorOptions o) {
  return make(kernels::linspace(start, end, steps, o.dtype), o);
}
Tensor eye(int64_t n, int64_t m, TensorOptions o) { return make(kernels::eye(n, m < 0 ? n : m, o.dtype), o); }
Tensor rand(const Shape& shape, TensorOptions o) { return rand(shape, default_generator(), o); }
Tensor randn(const Shape& shape, TensorOptions o) { return randn(shape, default_generator(), o); }
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions o) {
  return randint(low, high, shape, default_generator(), o);
}
Tensor rand(const Shape& shape, Generator& gen, TensorOptions o) {
  return make(kernels::uniform(shape, 0.0, 1.0, o.dtype, gen), o);
}
Tensor randn(const Shape& shape, Generator& gen, TensorOptions o) {
  return make(kernels::normal(shape, 0.0, 1.0, o.dtype, gen), o);
}
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen, TensorOptions o) {
  return make(kernels::randint(shape, low, high, gen).to(o.dtype), o);
}
Tensor zeros_like(const Tensor& t, TensorOptions o) { return zeros(t.shape(), o); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), {.dtype = t.dtype()}); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), {.dtype = t.dtype()}); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, {.dtype = t.dtype()}); }
Tensor randn_like(const Tensor& t) { return randn(t.shape(), {.dtype = t.dtype()}); }
Tensor from_array(const Array& values, bool requires_grad) { return Tensor(values, requires_grad); }

template <typename T> Tensor tensor(const std::vector<T>& values, const Shape& shape) {
  if (static_cast<int64_t>(values.size()) != numel(shape))
    throw ShapeError("tensor: " + std::to_string(values.size()) + " values do not fill shape " +
                     xgrad::to_string(shape));
  Array out(shape, dtype_v<T>);
  T* p = out.data<T>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return Tensor(out);
}

template <typename T> Tensor tensor(std::initializer_list<T> values) {
  return tensor(std::vector<T>(values), {static_cast<int64_t>(values.size())});
}

namespace {
// Nested rows flattened row-major into `Out` values; throws on ragged rows.
template <typename Out, typename In> Tensor from_rows(std::initializer_list<std::initializer_list<In>> rows) {
  std::vector<Out> flat;
  const int64_t cols = rows.size() ? static_cast<int64_t>(rows.begin()->size()) : 0;
  for (const auto& row : rows) {
    if (static_cast<int64_t>(row.size()) != cols)
      throw ShapeError("tensor: nested lists are ragged (rows of " + std::to_string(cols) + " and " +
                       std::to_string(row.size()) + " values)");
    flat.insert(flat.end(), row.begin(), row.end());
  }
  return tensor(flat, {static_cast<int64_t>(rows.size()), cols});
}
}  // namespace

template <typename T> Tensor tensor(std::initializer_list<std::initializer_list<T>> rows) {
  return from_rows<T>(rows);
}

template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> blocks) {
  std::vector<T> flat;
  Shape inner;
  for (const auto& block : blocks) {
    const Tensor t = tensor<T>(block);
    if (!inner.empty() && t.shape() != inner)
      throw ShapeError("tensor: nested lists are ragged (blocks of shape " + xgrad::to_string(inner) + " and " +
                       xgrad::to_string(t.shape()) + ")");
    inner = t.shape();
    const std::vector<T> values = t.array().numel() ? std::vector<T>(t.data_ptr<T>(), t.data_ptr<T>() + t.numel())
                                                    : std::vector<T>();
    flat.insert(flat.end(), values.begin(), values.end());
  }
  Shape shape{static_cast<int64_t>(blocks.size())};
  shape.insert(shape.end(), inner.begin(), inner.end());
  if (inner.empty()) shape = {static_cast<int64_t>(blocks.size()), 0, 0};
  return tensor(flat, shape);
}

#define XGRAD_INSTANTIATE_TENSOR(T)                                                              \
  template Tensor tensor<T>(const std::vector<T>&, const Shape&);                                \
  template Tensor tensor<T>(std::initializer_list<T>);                                           \
  template Tensor tensor<T>(std::initializer_list<std::initializer_list<T>>);                    \
  template Tensor tensor<T>(std::initializer_list<std::initializer_list<std::initializer_list<T>>>);
XGRAD_INSTANTIATE_TENSOR(float)
XGRAD_INSTANTIATE_TENSOR(double)
XGRAD_INSTANTIATE_TENSOR(int64_t)
#undef XGRAD_INSTANTIATE_TENSOR

template <> Tensor tensor<bool>(const std::vector<bool>& values, const Shape& shape) {
  if (static_cast<int64_t>(values.size()) != numel(shape))
    throw ShapeError("tensor: " + std::to_string(values.size()) + " values do not fill shape " +
                     xgrad::to_string(shape));
  Array out(shape, kBool);
  bool* p = out.data<bool>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return Tensor(out);
}
template <> Tensor tensor<bool>(std::initializer_list<bool> values) {
  return tensor(std::vector<bool>(values), {static_cast<int64_t>(values.size())});
}

Tensor tensor(std::initializer_list<int> values) {
  std::vector<int64_t> v(values.begin(), values.end());
  return tensor(v, {static_cast<int64_t>(v.size())});
}

Tensor tensor(std::initializer_list<std::initializer_list<int>> rows) { return from_rows<int64_t>(rows); }

}  // namespace xgrad
