#pragma once
// Differentiable products through BLAS GEMM.
#include "xgrad/autograd/tensor.hpp"

namespace xgrad {

// NumPy/PyTorch matmul: 1-d x 1-d is a dot product, 2-d x 2-d a matrix product, higher ranks
// are batches that broadcast. Operands share one floating dtype (DTypeError otherwise).
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor dot(const Tensor& a, const Tensor& b);    // 1-d . 1-d
Tensor outer(const Tensor& a, const Tensor& b);  // 1-d x 1-d -> 2-d

}  // namespace xgrad
