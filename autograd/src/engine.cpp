// The backward engine: finds the nodes between the roots and what needs a gradient, orders
// them by dependency count (iteratively: long unrolled graphs must not overflow the stack), and
// runs each node's backward once all gradients for its output have arrived.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "xgrad/autograd/autograd.hpp"
#include "xgrad/autograd/ops/elementwise.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad {
namespace {

class GradModeScope {
 public:
  explicit GradModeScope(bool enabled) : previous_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeScope() { set_grad_enabled(previous_); }
  GradModeScope(const GradModeScope&) = delete;
  GradModeScope& operator=(const GradModeScope&) = delete;

 private:
  bool previous_;
};

struct NodeState {
  int dependencies = 0;  // edges from needed nodes still to deliver a gradient
  bool needed = false;
  bool accumulates = false;  // an AccumulateGrad: runs after every other ready node (see below)
  Tensor grad;               // the sum of the gradients delivered so far
};

// The engine's per-run state by node: an open-addressing table (linear probing, power-of-two
// capacity) that allocates once per run instead of once per node as std::unordered_map does;
// the per-node allocations were a tenth of a small op's backward.
class NodeStates {
 public:
  // The state of `node`, created empty on first use.
  NodeState& operator[](Node* node) { return slots_[find_or_insert(node)].state; }
  bool count(Node* node) const {
    if (slots_.empty()) return false;
    for (size_t i = hash(node);; i = (i + 1) & mask_) {
      if (slots_[i].node == node) return true;
      if (!slots_[i].node) return false;
    }
  }
  template <class Fn> void for_each(Fn&& fn) {
    for (auto& slot : slots_)
      if (slot.node) fn(slot.node, slot.state);
  }

 private:
  struct Slot {
    Node* node = nullptr;
    NodeState state;
  };
  size_t hash(Node* node) const {
    auto h = reinterpret_cast<uintptr_t>(node);
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(h >> 20) & mask_;
  }
  // Grows only to insert, so a reference to an existing node's state stays valid across lookups.
  size_t find_or_insert(Node* node) {
    if (!slots_.empty())
      for (size_t i = hash(node); slots_[i].node; i = (i + 1) & mask_)
        if (slots_[i].node == node) return i;
    if (2 * (size_ + 1) > slots_.size()) grow();
    for (size_t i = hash(node);; i = (i + 1) & mask_) {
      if (slots_[i].node == node) return i;
      if (!slots_[i].node) {
        slots_[i].node = node;
        ++size_;
        return i;
      }
    }
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (auto& slot : old)
      if (slot.node) slots_[find_or_insert(slot.node)].state = std::move(slot.state);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Marks which nodes lead to something that wants a gradient (post-order, iteratively).
void discover(const std::vector<Node*>& roots, NodeStates& state,
              const std::unordered_map<Node*, std::vector<size_t>>& capture, bool accumulate) {
  struct Frame {
    Node* node;
    size_t next;
  };
  std::vector<Frame> stack;
  for (Node* root : roots) {
    if (state.count(root)) continue;
    state[root];
    stack.push_back({root, 0});
    while (!stack.empty()) {
      Frame& top = stack.back();
      const auto& edges = top.node->next();
      if (top.next < edges.size()) {
        Node* child = edges[top.next++].get();
        if (child && !state.count(child)) {
          state[child];
          stack.push_back({child, 0});
        }
        continue;
      }
      Node* node = top.node;
      stack.pop_back();
      NodeState& s = state[node];
      s.accumulates = dynamic_cast<AccumulateGrad*>(node) != nullptr;
      s.needed = capture.count(node) || !node->pre_hooks.empty() || (accumulate && s.accumulates);
      for (const auto& child : node->next())
        if (child && state[child.get()].needed) s.needed = true;
    }
  }
  std::vector<Node*> needed;
  state.for_each([&](Node* node, const NodeState& s) {
    if (s.needed) needed.push_back(node);
  });
  for (Node* node : needed)
    for (const auto& child : node->next())
      if (child && state[child.get()].needed) ++state[child.get()].dependencies;
}

void accumulate_into(Tensor& slot, const Tensor& g) {
  if (!slot.defined())
    slot = g;
  else
    slot = slot + g;
}

void check_gradient(const Node& node, size_t i, const Tensor& g) {
  if (g.shape() != node.input_shape(i) || g.dtype() != node.input_dtype(i))
    throw AutogradError(std::string(node.name()) + ": backward returned a gradient of shape " + to_string(g.shape()) +
                        " and dtype " + std::string(dtype_name(g.dtype())) + " for input " + std::to_string(i) +
                        " of shape " + to_string(node.input_shape(i)) + " and dtype " +
                        std::string(dtype_name(node.input_dtype(i))));
  if (is_anomaly_enabled() && kernels::has_nonfinite(g.array()))
    throw AnomalyError(std::string(node.name()) + ": backward produced NaN or Inf in the gradient of input " +
                       std::to_string(i) + " (anomaly mode)");
}

// Runs backward from `roots`. With `inputs`, returns their gradients and accumulates nothing;
// without, accumulates into the leaves' .grad.
std::vector<Tensor> run_backward(std::string_view api, const std::vector<Tensor>& roots,
                                 const std::vector<Tensor>& root_grads, bool retain_graph, bool create_graph,
                                 const std::vector<Tensor>* inputs, bool allow_unused) {
  if (!root_grads.empty() && root_grads.size() != roots.size())
    throw ValueError(std::string(api) + ": got " + std::to_string(root_grads.size()) + " gradients for " +
                     std::to_string(roots.size()) + " tensors");
  std::vector<Node*> root_nodes;
  std::vector<Tensor> seeds;
  std::vector<std::shared_ptr<Node>> keep_alive;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    if (!root.defined()) throw ValueError(std::string(api) + ": tensor " + std::to_string(i) + " is undefined");
    std::shared_ptr<Node> edge = gradient_edge(root);
    if (!edge)
      throw AutogradError(std::string(api) + ": tensor " + std::to_string(i) +
                          " does not require grad and has no grad_fn");
    Tensor seed = root_grads.empty() ? Tensor() : root_grads[i];
    if (!seed.defined()) {
      if (root.numel() != 1)
        throw AutogradError(std::string(api) + ": a gradient can be implied only for one-element outputs, got shape " +
                            to_string(root.shape()) + "; pass a gradient of that shape");
      seed = ones_like(root);
    } else if (seed.shape() != root.shape()) {
      throw ShapeError(std::string(api) + ": gradient of shape " + to_string(seed.shape()) +
                       " does not match the output's shape " + to_string(root.shape()));
    }
    root_nodes.push_back(edge.get());
    seeds.push_back(seed);
    keep_alive.push_back(std::move(edge));
  }

  std::unordered_map<Node*, std::vector<size_t>> capture;
  if (inputs) {
    for (size_t i = 0; i < inputs->size(); ++i) {
      std::shared_ptr<Node> edge = gradient_edge((*inputs)[i]);
      if (!edge) throw AutogradError(std::string(api) + ": input " + std::to_string(i) + " does not require grad");
      capture[edge.get()].push_back(i);
      keep_alive.push_back(std::move(edge));
    }
  }

  NodeStates state;
  discover(root_nodes, state, capture, inputs == nullptr);
  GradModeScope mode(create_graph);
  // Ready nodes run last in, first out, except that leaves' AccumulateGrad nodes wait until no
  // other node is ready: by then the other consumers of a gradient shared with a leaf (add's
  // backward hands one tensor to both inputs) have run and dropped it, so the leaf can keep the
  // buffer as its .grad instead of copying it.
  std::vector<Node*> ready, ready_leaves;
  auto enqueue = [&](Node* node, const NodeState& s) { (s.accumulates ? ready_leaves : ready).push_back(node); };
  for (size_t i = 0; i < root_nodes.size(); ++i) accumulate_into(state[root_nodes[i]].grad, seeds[i]);
  for (Node* root : root_nodes) {
    NodeState& s = state[root];
    if (s.needed && s.dependencies == 0) {
      s.dependencies = -1;  // queued
      enqueue(root, s);
    }
  }

  std::vector<Tensor> results(inputs ? inputs->size() : 0);
  // Hands child i its gradient (or only its turn, when `g` is undefined) and queues it when
  // every needed parent has delivered.
  auto deliver = [&](Node* child, const Tensor& g) {
    NodeState& cs = state[child];
    if (!cs.needed) return;
    if (g.defined()) accumulate_into(cs.grad, g);
    if (--cs.dependencies == 0) enqueue(child, cs);
  };
  while (!ready.empty() || !ready_leaves.empty()) {
    std::vector<Node*>& queue = ready.empty() ? ready_leaves : ready;
    Node* node = queue.back();
    queue.pop_back();
    NodeState& s = state[node];
    Tensor g = std::move(s.grad);
    const auto& next = node->next();
    if (!g.defined()) {  // no gradient reached this node: its inputs get none from it either
      for (const auto& child : next)
        if (child) deliver(child.get(), Tensor());
      continue;
    }
    for (auto& [id, hook] : node->pre_hooks) {
      Tensor replaced = hook(g);
      if (replaced.defined()) g = replaced;
    }
    if (auto it = capture.find(node); it != capture.end())
      for (size_t index : it->second) results[index] = g;
    if (s.accumulates) {
      if (!inputs) {
        auto* acc = static_cast<AccumulateGrad*>(node);
        acc->create_graph = create_graph;
        acc->apply(g);
      }
      continue;
    }
    bool any_child_needed = false;
    for (const auto& child : next) any_child_needed |= child && state[child.get()].needed;
    if (!any_child_needed) continue;

    Grads grads;
    try {
      grads = node->apply(g);
    } catch (const AnomalyError& e) {  // an op inside the backward formula: name the node too
      throw AnomalyError(std::string(node->name()) + ": backward produced NaN or Inf (" + e.what() + ")");
    }
    if (!retain_graph) node->release();
    if (grads.size() != next.size())
      throw AutogradError(std::string(node->name()) + ": backward returned " + std::to_string(grads.size()) +
                          " gradients for " + std::to_string(next.size()) + " inputs");
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!next[i]) continue;
      if (grads[i].defined() && state[next[i].get()].needed) check_gradient(*node, i, grads[i]);
      deliver(next[i].get(), grads[i]);
    }
  }

  if (inputs && !allow_unused)
    for (size_t i = 0; i < results.size(); ++i)
      if (!results[i].defined())
        throw ValueError(std::string(api) + ": input " + std::to_string(i) +
                         " was not used to compute the outputs; pass allow_unused=true to get an undefined gradient");
  return results;
}

}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph, bool create_graph,
                         bool allow_unused) {
  return run_backward("grad", outputs, grad_outputs, retain_graph.value_or(create_graph), create_graph, &inputs,
                      allow_unused);
}

void backward(const std::vector<Tensor>& tensors, const std::vector<Tensor>& grad_tensors, bool retain_graph,
              bool create_graph) {
  run_backward("backward", tensors, grad_tensors, retain_graph, create_graph, nullptr, false);
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph, bool create_graph) const {
  run_backward("backward", {*this}, {gradient}, retain_graph.value_or(create_graph), create_graph, nullptr, false);
}

}  // namespace xgrad
