#pragma once
// Differentiable normalisation: statistics in one fused pass, backward in closed form written in
// xgrad ops (so it has second derivatives too).
#include <cstdint>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad {

// Batch normalisation over every dim but 1 of x [N, C, ...]. In training the batch statistics are
// used (biased variance) and, when running_mean / running_var are defined, updated in place
// without recording: running = (1 - momentum) running + momentum batch_stat (unbiased variance).
// Otherwise (training false) the running statistics normalise. weight / bias [C] may be undefined.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5);
// Normalises over the trailing dims given by normalized_shape; weight / bias have that shape.
Tensor layer_norm(const Tensor& x, const std::vector<int64_t>& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);
// x [N, C, ...] split into `groups` groups of channels, each normalised; weight / bias [C].
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

}  // namespace xgrad
