#pragma once
// The graph. An op's output remembers the Node that made it; a Node holds edges to the nodes
// of its inputs, the values its backward needs, and the backward itself: a function written in
// differentiable ops, so that with create_graph the gradient is itself a graph.
//
// How an op records itself (see ops/*.cpp for many more):
//   // y = exp(x)    dx = dy * y
//   Tensor exp(const Tensor& x) {
//     return record("exp", kernels::unary(kernels::Unary::Exp, x.array()), {x}, Save::Output,
//                   [](const Backward& c) -> Grads { return {c.grad * c.output()}; });
//   }
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad {

// What a Tensor handle points to.
struct TensorImpl {
  Array value;
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<Node> grad_fn;        // null for a leaf
  std::shared_ptr<TensorImpl> grad;     // .grad
  std::weak_ptr<Node> grad_accumulator; // a leaf's AccumulateGrad node, made on first use
  std::vector<std::pair<int64_t, Tensor::Hook>> hooks;
  int64_t next_hook_id = 0;
};

// A value saved for backward. It keeps the Array and the edge into the graph, never the
// TensorImpl, so no cycle can form (an output saved by its own node re-links to that node on
// unpack, as PyTorch's SavedVariable does). The storage version at save time catches in-place
// changes made before backward.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& t, bool is_output);
  Tensor unpack(const std::shared_ptr<Node>& owner, std::string_view op) const;
  bool defined() const { return value_.defined(); }
  void reset() { *this = SavedTensor(); }
  std::shared_ptr<Node> take_edge() { return std::move(edge_); }

 private:
  Array value_;
  uint64_t version_ = 0;
  std::shared_ptr<Node> edge_;  // the input's grad_fn or accumulator; null for outputs
  bool requires_grad_ = false;
  bool is_output_ = false;
};

enum class Save : uint8_t { Nothing = 0, Inputs = 1, Output = 2, InputsAndOutput = 3 };

using Grads = std::vector<Tensor>;

// What a backward function sees.
class Backward {
 public:
  Backward(const Tensor& grad_output, Node& owner) : grad(grad_output), node_(owner) {}
  const Tensor& grad;                     // dL/d(output)
  bool needs(size_t i) const;             // does input i need a gradient?
  Tensor input(size_t i) const;           // saved input (Save::Inputs)
  Tensor output() const;                  // saved output (Save::Output)
  const Shape& input_shape(size_t i) const;
  DType input_dtype(size_t i) const;

 private:
  Node& node_;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  using BackwardFn = std::function<Grads(const Backward&)>;

  Node(std::string_view name, BackwardFn fn) : name_(name), backward_(std::move(fn)) {}
  // Frees the graph behind this node iteratively: a chain of a million ops must not recurse.
  virtual ~Node();

  std::string_view name() const { return name_; }
  // One edge per input: the node its gradient flows to, null when it needs none.
  const std::vector<std::shared_ptr<Node>>& next() const { return next_; }
  // Runs the backward; the engine calls this.
  virtual Grads apply(const Tensor& grad);
  // Drops the saved values (after a backward without retain_graph).
  virtual void release();
  bool released() const { return released_; }
  const Shape& input_shape(size_t i) const { return input_shapes_[i]; }
  DType input_dtype(size_t i) const { return input_dtypes_[i]; }

  // Hooks run on the gradient arriving at this node's output before apply (tensor hooks and
  // retain_grad of non-leaves live here).
  // Each with the id register_hook returned.
  std::vector<std::pair<int64_t, Tensor::Hook>> pre_hooks;

 private:
  friend class Backward;
  friend struct NodeAccess;  // record() fills in a new node

  std::string_view name_;
  BackwardFn backward_;
  std::vector<std::shared_ptr<Node>> next_;
  std::vector<SavedTensor> saved_inputs_;
  SavedTensor saved_output_;
  std::vector<Shape> input_shapes_;
  std::vector<DType> input_dtypes_;
  bool released_ = false;
};

// The sink of a leaf: adds the incoming gradient into leaf.grad. Holds the leaf weakly.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf);
  Grads apply(const Tensor& grad) override;
  void release() override {}
  std::shared_ptr<TensorImpl> leaf() const { return leaf_.lock(); }
  bool create_graph = false;  // set by the engine for this run

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// The node a gradient for `t` flows into: its grad_fn, or its leaf accumulator when it is a
// leaf that requires grad, or null.
std::shared_ptr<Node> gradient_edge(const Tensor& t);

// Wraps `value` as the output of op `name`. When grad mode is on and some input requires grad,
// it records a Node with `backward` and the values `save` asks for; otherwise it only wraps.
// `name` must outlive the graph (a string literal).
Tensor record(std::string_view name, Array value, std::initializer_list<Tensor> inputs, Save save,
              Node::BackwardFn backward);
Tensor record(std::string_view name, Array value, const std::vector<Tensor>& inputs, Save save,
              Node::BackwardFn backward);

}  // namespace xgrad
