#pragma once
// Differentiable reductions over every element (dims = {}) or a list of dims, with keepdim;
// and softmax / log_softmax along one dim.
#include "xgrad/autograd/tensor.hpp"

namespace xgrad {

Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor prod(const Tensor& x, const Dims& dims = {}, bool keepdim = false);

// The broadcast gradient helper: sums `x` down to `shape` (which must broadcast to x's shape).
// Every backward of a broadcasting op uses it.
Tensor sum_to(const Tensor& x, const Shape& shape);

struct ValuesIndices {
  Tensor values;   // differentiable
  Tensor indices;  // int64
};
Tensor max(const Tensor& x);  // over every element; ties split the gradient evenly
Tensor min(const Tensor& x);
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim = false);  // gradient to the index
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor amax(const Tensor& x, const Dims& dims, bool keepdim = false);   // ties split evenly
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim = false);
Tensor argmax(const Tensor& x);  // flat index
Tensor argmin(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);

// correction = 1 is the unbiased (Bessel) estimate, 0 the biased one.
Tensor var(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
Tensor norm(const Tensor& x, double p = 2.0, const Dims& dims = {}, bool keepdim = false);
Tensor any(const Tensor& x, const Dims& dims = {}, bool keepdim = false);  // bool
Tensor all(const Tensor& x, const Dims& dims = {}, bool keepdim = false);

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace xgrad
