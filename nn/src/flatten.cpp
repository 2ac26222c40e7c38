#include "xgrad/nn/flatten.hpp"

#include "xgrad/autograd/ops/shape.hpp"

namespace xgrad::nn {

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim_, end_dim_); }

std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(start_dim_) + ", end_dim=" + std::to_string(end_dim_);
}

}  // namespace xgrad::nn
