#pragma once
// nn::functional: the layers and losses as plain functions (namespace F = xg::nn::functional).
#include <cstdint>

#include "xgrad/autograd/ops.hpp"
#include "xgrad/nn/loss.hpp"

namespace xgrad::nn::functional {

// y = x W^T + b: x [..., in], weight [out, in], bias [out] or undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});
// Inverted dropout: when training, zeroes each element with probability p (drawn from `gen`) and
// scales the rest by 1 / (1 - p); otherwise returns x.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator& gen = default_generator());
// Channel dropout of [N, C, H, W] (or unbatched [C, H, W]): when training, zeroes each whole channel
// with probability p (one draw per channel from `gen`) and scales the rest by 1 / (1 - p).
Tensor dropout2d(const Tensor& x, double p = 0.5, bool training = true, Generator& gen = default_generator());

// The activations are the xgrad ops themselves.
using xgrad::elu;
using xgrad::flatten;
using xgrad::gelu;
using xgrad::leaky_relu;
using xgrad::log_softmax;
using xgrad::relu;
using xgrad::sigmoid;
using xgrad::silu;
using xgrad::softmax;
using xgrad::softplus;
using xgrad::tanh;

}  // namespace xgrad::nn::functional
