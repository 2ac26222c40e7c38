#pragma once
// The functional autograd API, custom ops and the gradient checkers.
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/node.hpp"
#include "xgrad/autograd/tensor.hpp"

namespace xgrad {

// d(outputs)/d(inputs) contracted with grad_outputs (default: ones for one-element outputs).
// With create_graph the result is itself differentiable (Hessian-vector products, gradient
// penalties). retain_graph defaults to create_graph. An input that no output depends on gives
// an undefined tensor when allow_unused, ValueError otherwise. Nothing accumulates into .grad.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, std::optional<bool> retain_graph = {},
                         bool create_graph = false, bool allow_unused = false);

// Backward from several roots at once, accumulating into .grad of the leaves.
void backward(const std::vector<Tensor>& tensors, const std::vector<Tensor>& grad_tensors = {},
              bool retain_graph = false, bool create_graph = false);

// A differentiable op defined in user code. `forward` computes the output from the inputs'
// values (it runs with recording off); `backward` returns one gradient per input (or an undefined
// Tensor for none), written with xgrad ops so that it is itself differentiable. Saved for it:
// c.input(i) and c.output(). `name` must be a string literal (it lives as long as the graph).
//
//   Tensor cube(const Tensor& x) {
//     return custom_op("cube", {x},
//         [](const std::vector<Tensor>& in) { return in[0] * in[0] * in[0]; },
//         [](const Backward& c) -> Grads { return {c.grad * 3.0 * square(c.input(0))}; });
//   }
Tensor custom_op(std::string_view name, const std::vector<Tensor>& inputs,
                 const std::function<Tensor(const std::vector<Tensor>&)>& forward, Node::BackwardFn backward);

// Gradient checking against central differences. Inputs should be float64; only floating inputs
// that require grad are checked. The result says what differs, where and by how much.
struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};
struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  std::string message;  // empty when ok
  explicit operator bool() const { return ok; }
};
using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;
GradcheckResult gradcheck(const TensorFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions options = {});
// Checks the gradient of the gradient: gradcheck of inputs -> grad(fn(inputs), inputs, v,
// create_graph) for a random v, which is also checked as an input.
GradcheckResult gradgradcheck(const TensorFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions options = {});

}  // namespace xgrad
