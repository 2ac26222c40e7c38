#include "xgrad/autograd/node.hpp"

#include <string>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/ops/elementwise.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad {

// ---- SavedTensor --------------------------------------------------------------------------------

SavedTensor::SavedTensor(const Tensor& t, bool is_output)
    : value_(t.array()), version_(t.array().version()), requires_grad_(t.requires_grad()), is_output_(is_output) {
  if (!is_output) edge_ = gradient_edge(t);
}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& owner, std::string_view op) const {
  if (!value_.defined())
    throw AutogradError(std::string(op) +
                        ": trying to backward through the graph a second time, but its saved values were freed "
                        "after the first backward; pass retain_graph=true to the first backward");
  if (value_.version() != version_)
    throw AutogradError(std::string(op) + ": a tensor of shape " + to_string(value_.shape()) +
                        " saved for backward was modified by an in-place operation (version " +
                        std::to_string(value_.version()) + ", expected " + std::to_string(version_) + ")");
  auto impl = std::make_shared<TensorImpl>();
  impl->value = value_;
  impl->requires_grad = requires_grad_;
  impl->grad_fn = is_output_ ? owner : edge_;
  return Tensor(std::move(impl));
}

// ---- Backward context -----------------------------------------------------------------------------

bool Backward::needs(size_t i) const { return i < node_.next_.size() && node_.next_[i] != nullptr; }

Tensor Backward::input(size_t i) const {
  if (i >= node_.saved_inputs_.size())
    throw AutogradError(std::string(node_.name()) + ": backward reads input " + std::to_string(i) +
                        " which the op did not save (record with Save::Inputs)");
  return node_.saved_inputs_[i].unpack(node_.shared_from_this(), node_.name());
}

Tensor Backward::output() const {
  if (!node_.saved_output_.defined() && !node_.released_)
    throw AutogradError(std::string(node_.name()) + ": backward reads its output, which the op did not save "
                        "(record with Save::Output)");
  return node_.saved_output_.unpack(node_.shared_from_this(), node_.name());
}

const Shape& Backward::input_shape(size_t i) const { return node_.input_shapes_.at(i); }
DType Backward::input_dtype(size_t i) const { return node_.input_dtypes_.at(i); }

// ---- Node -----------------------------------------------------------------------------------------

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending;
  auto adopt_edges = [&pending](Node& n) {
    for (auto& edge : n.next_)
      if (edge) pending.push_back(std::move(edge));
    n.next_.clear();
    for (SavedTensor& saved : n.saved_inputs_)
      if (auto edge = saved.take_edge()) pending.push_back(std::move(edge));
  };
  adopt_edges(*this);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    if (node.use_count() == 1) adopt_edges(*node);  // about to die: take its edges first
  }
}

Grads Node::apply(const Tensor& grad) {
  if (released_)
    throw AutogradError(std::string(name_) +
                        ": trying to backward through the graph a second time, but its saved values were freed "
                        "after the first backward; pass retain_graph=true to the first backward");
  return backward_(Backward(grad, *this));
}

void Node::release() {
  for (SavedTensor& s : saved_inputs_) s.reset();
  saved_output_.reset();
  released_ = true;
}

AccumulateGrad::AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf)
    : Node("accumulate_grad", nullptr), leaf_(leaf) {}

Grads AccumulateGrad::apply(const Tensor& grad) {
  std::shared_ptr<TensorImpl> leaf = leaf_.lock();
  if (!leaf) return {};  // the leaf is gone: nobody can read its gradient
  Tensor g = grad;
  for (auto& [id, hook] : leaf->hooks) {
    Tensor replaced = hook(g);
    if (replaced.defined()) g = replaced;
  }
  if (!leaf->grad) {
    // Keep the incoming tensor when nobody else holds its storage; else copy, so that a later
    // in-place accumulation cannot write into a buffer shared with another gradient.
    // (Here one handle is the engine's buffer and one is `g`.)
    const bool exclusive = g.impl().use_count() <= 2 && g.array().storage().use_count() == 1;
    if (create_graph) leaf->grad = g.impl();
    else if (exclusive && g.is_contiguous()) leaf->grad = Tensor(g.array()).impl();
    else leaf->grad = Tensor(g.array().clone()).impl();
  } else if (create_graph || Tensor(leaf->grad).requires_grad()) {
    leaf->grad = (Tensor(leaf->grad) + g).impl();
  } else {
    kernels::binary_(kernels::Binary::Add, leaf->grad->value, g.array());
  }
  return {};
}

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  const std::shared_ptr<TensorImpl>& impl = t.impl();
  if (!impl) return nullptr;
  if (impl->grad_fn) return impl->grad_fn;
  if (!impl->requires_grad) return nullptr;
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(impl);
    impl->grad_accumulator = acc;
  }
  return acc;
}

// ---- record -----------------------------------------------------------------------------------------

namespace {

void check_finite(std::string_view name, const Array& value) {
  if (is_floating(value.dtype()) && kernels::has_nonfinite(value))
    throw AnomalyError(std::string(name) + ": forward produced NaN or Inf (anomaly mode), output shape " +
                       to_string(value.shape()));
}

}  // namespace

struct NodeAccess {
  template <typename Inputs>
  static Tensor record(std::string_view name, Array value, const Inputs& inputs, Save save, Node::BackwardFn backward) {
  if (is_anomaly_enabled()) check_finite(name, value);
  bool any_requires_grad = false;
  if (is_grad_enabled())
    for (const Tensor& t : inputs) any_requires_grad |= t.defined() && t.requires_grad();
  auto impl = std::make_shared<TensorImpl>();
  impl->value = std::move(value);
  if (!any_requires_grad) return Tensor(std::move(impl));

  auto node = std::make_shared<Node>(name, std::move(backward));
  node->next_.reserve(inputs.size());
  node->input_shapes_.reserve(inputs.size());
  node->input_dtypes_.reserve(inputs.size());
  const bool save_inputs = save == Save::Inputs || save == Save::InputsAndOutput;
  if (save_inputs) node->saved_inputs_.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    node->next_.push_back(t.defined() ? gradient_edge(t) : nullptr);
    node->input_shapes_.push_back(t.defined() ? t.shape() : Shape{});
    node->input_dtypes_.push_back(t.defined() ? t.dtype() : kFloat32);
    if (save_inputs) node->saved_inputs_.emplace_back(t.defined() ? SavedTensor(t, false) : SavedTensor());
  }
  impl->requires_grad = true;
  impl->grad_fn = node;
  Tensor out(std::move(impl));
  if (save == Save::Output || save == Save::InputsAndOutput) node->saved_output_ = SavedTensor(out, true);
  return out;
}
};

Tensor record(std::string_view name, Array value, std::initializer_list<Tensor> inputs, Save save,
              Node::BackwardFn backward) {
  return NodeAccess::record(name, std::move(value), inputs, save, std::move(backward));
}

Tensor record(std::string_view name, Array value, const std::vector<Tensor>& inputs, Save save,
              Node::BackwardFn backward) {
  return NodeAccess::record(name, std::move(value), inputs, save, std::move(backward));
}

}  // namespace xgrad
