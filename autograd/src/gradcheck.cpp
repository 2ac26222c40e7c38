// Gradient checking by central differences, and user-defined ops.
#include <cmath>
#include <sstream>

#include "xgrad/autograd/autograd.hpp"
#include "xgrad/autograd/ops.hpp"

namespace xgrad {

Tensor custom_op(std::string_view name, const std::vector<Tensor>& inputs,
                 const std::function<Tensor(const std::vector<Tensor>&)>& forward, Node::BackwardFn backward) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = forward(inputs);
  }
  if (!out.defined()) throw ValueError(std::string(name) + ": the forward of a custom op returned no tensor");
  return record(name, out.array(), inputs, Save::InputsAndOutput, std::move(backward));
}

namespace {

// Values of fn(inputs) as float64. Recording stays on: fn may itself take a gradient (as in
// gradgradcheck).
std::vector<double> evaluate(const TensorFn& fn, const std::vector<Tensor>& inputs) {
  return fn(inputs).to_vector<double>();
}

}  // namespace

GradcheckResult gradcheck(const TensorFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions options) {
  GradcheckResult result;
  std::vector<size_t> checked;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad() && inputs[i].is_floating_point()) checked.push_back(i);
  if (checked.empty()) return result;
  std::vector<Tensor> wrt;
  for (size_t i : checked) wrt.push_back(inputs[i]);

  // Analytical Jacobian, one output element at a time: J[j] = d y_j / d inputs.
  const Tensor y = fn(inputs);
  const int64_t m = y.numel();
  std::vector<std::vector<std::vector<double>>> analytical(m);  // [output][input][element]
  for (int64_t j = 0; j < m; ++j) {
    analytical[j].resize(wrt.size());
    std::vector<Tensor> grads(wrt.size());
    if (y.requires_grad()) {
      const Tensor seed = zeros(y.shape(), {.dtype = y.dtype()});
      seed.array().reshape({-1}).set({j}, 1.0);  // a view of the fresh contiguous seed
      grads = grad({y}, wrt, {seed}, /*retain_graph=*/true, /*create_graph=*/false, /*allow_unused=*/true);
    }
    for (size_t k = 0; k < wrt.size(); ++k)
      analytical[j][k] = grads[k].defined() ? grads[k].to_vector<double>() : std::vector<double>(wrt[k].numel(), 0.0);
  }

  // Numerical Jacobian by central differences, one input element at a time.
  for (size_t k = 0; k < wrt.size(); ++k) {
    const Array flat = wrt[k].array().reshape({-1});
    if (flat.storage() != wrt[k].array().storage())
      throw ValueError("gradcheck: inputs must be contiguous tensors");
    for (int64_t e = 0; e < flat.numel(); ++e) {
      const double x0 = flat.at({e});
      flat.set({e}, x0 + options.eps);
      const std::vector<double> plus = evaluate(fn, inputs);
      flat.set({e}, x0 - options.eps);
      const std::vector<double> minus = evaluate(fn, inputs);
      flat.set({e}, x0);
      for (int64_t j = 0; j < m; ++j) {
        const double numerical = (plus[j] - minus[j]) / (2 * options.eps);
        const double a = analytical[j][k][e];
        const double error = std::abs(a - numerical);
        result.max_abs_error = std::max(result.max_abs_error, error);
        if (!(error <= options.atol + options.rtol * std::abs(numerical)) && result.ok) {
          std::ostringstream os;
          os.precision(10);
          os << "gradcheck: d output[" << j << "] / d input " << checked[k] << "[" << e << "]: analytical " << a
             << " vs numerical " << numerical << " (input shape " << to_string(wrt[k].shape()) << ", output shape "
             << to_string(y.shape()) << ")";
          result.ok = false;
          result.message = os.str();
        }
      }
    }
  }
  return result;
}

GradcheckResult gradgradcheck(const TensorFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions options) {
  std::vector<size_t> checked;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad() && inputs[i].is_floating_point()) checked.push_back(i);
  if (checked.empty()) return {};
  Generator gen(1234);
  Tensor y;
  {
    NoGradGuard no_grad;
    y = fn(inputs);
  }
  // v: the vector the first backward contracts with; w: a fixed random projection of the gradients.
  Tensor v = randn(y.shape(), gen, {.dtype = y.dtype(), .requires_grad = y.is_floating_point()});
  std::vector<Tensor> w;
  for (size_t i : checked) w.push_back(randn(inputs[i].shape(), gen, {.dtype = inputs[i].dtype()}));

  auto first_order = [&](const std::vector<Tensor>& all) -> Tensor {
    std::vector<Tensor> xs(all.begin(), all.end() - 1);
    const Tensor& vv = all.back();
    const Tensor out = fn(xs);
    std::vector<Tensor> wrt;
    for (size_t i : checked) wrt.push_back(xs[i]);
    Tensor total = zeros({}, {.dtype = kFloat64});
    if (!out.requires_grad()) return total;
    const std::vector<Tensor> grads = grad({out}, wrt, {vv}, true, true, true);
    for (size_t k = 0; k < grads.size(); ++k)
      if (grads[k].defined()) total = total + (grads[k] * w[k]).sum();
    return total;
  };
  std::vector<Tensor> all = inputs;
  all.push_back(v);
  return gradcheck(first_order, all, options);
}

}  // namespace xgrad
