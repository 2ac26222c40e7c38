#include "xgrad/nn/linear.hpp"

#include <cmath>

#include "xgrad/nn/functional.hpp"
#include "xgrad/nn/init.hpp"

namespace xgrad::nn {

Linear::Linear(Options options) : options_(options) {
  if (options.in <= 0 || options.out <= 0)
    throw ValueError("Linear: in and out features must be positive, got in=" + std::to_string(options.in) +
                     ", out=" + std::to_string(options.out));
  weight = register_parameter("weight", empty({options.out, options.in}));
  if (options.bias) bias = register_parameter("bias", empty({options.out}));
  reset_parameters();
}

void Linear::reset_parameters() {
  if (!weight.defined()) return;
  // PyTorch's defaults: kaiming_uniform_(a = sqrt(5)) gives bound 1/sqrt(in) for W, and b matches it.
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(options_.in));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& x) {
  if (!weight.defined()) throw ValueError("Linear: forward of an empty (default-constructed) layer");
  if (x.dim() == 0 || x.size(-1) != options_.in)
    throw ShapeError("Linear: input of shape " + xgrad::to_string(x.shape()) +
                     " does not end in in_features=" + std::to_string(options_.in));
  return functional::linear(x, weight, bias);
}

std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(options_.in) + ", out_features=" + std::to_string(options_.out) +
         ", bias=" + (options_.bias ? "true" : "false");
}

}  // namespace xgrad::nn
