#pragma once
// Differentiable convolution, pooling and resampling over NCHW (2-d) and NCL (1-d) tensors, with
// PyTorch's shapes and defaults. Convolutions lower to BLAS GEMM (im2col / col2im over the whole
// batch); pooling is one pass over memory.
//
// The three convolution ops are each other's gradients, so every derivative order stays in the set:
//   y  = conv2d(x, w)            dx = conv_transpose2d(dy, w)   dw = conv2d_weight(x, dy)
//   y  = conv_transpose2d(x, w)  dx = conv2d(dy, w)             dw = conv2d_weight(dy, x)
#include <array>
#include <cstdint>
#include <optional>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad {

// Hyperparameters of a 2-d convolution; the 1-d ops use element [1] (the width) only.
struct Conv2dParams {
  std::array<int64_t, 2> stride = {1, 1};
  std::array<int64_t, 2> padding = {0, 0};  // zeros added on both sides of each spatial dim
  std::array<int64_t, 2> dilation = {1, 1};
  int64_t groups = 1;
  std::array<int64_t, 2> output_padding = {0, 0};  // conv_transpose2d only: extra rows/cols at the end
};

// x [N, C_in, H, W], weight [C_out, C_in / groups, kH, kW], bias [C_out] or undefined -> [N, C_out, H', W']
// H' = (H + 2 pad - dilation (kH - 1) - 1) / stride + 1. ShapeError / ValueError name the shapes.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const Conv2dParams& p = {});
// x [N, C_in, L], weight [C_out, C_in / groups, k] (the 2-d op over H = 1).
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const Conv2dParams& p = {});
// x [N, C_in, H, W], weight [C_in, C_out / groups, kH, kW] (PyTorch's layout) -> [N, C_out, H', W'],
// H' = (H - 1) stride - 2 pad + dilation (kH - 1) + output_padding + 1.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const Conv2dParams& p = {});
// The gradient of conv2d with respect to its weight: x [N, C_in, H, W], dy [N, C_out, H', W'] ->
// [C_out, C_in / groups, kH, kW] for the given kernel size. H', W' may be less than conv2d's output
// size (the gradient of a transposed conv with output_padding >= stride reads a cropped output).
Tensor conv2d_weight(const Tensor& x, const Tensor& dy, std::array<int64_t, 2> kernel_size, const Conv2dParams& p);

// Zero (or constant) padding of the last dims: pads = {left, right} for the last dim, then
// {top, bottom} for the one before, as torch.nn.functional.pad. Negative pads crop.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value = 0.0);

struct Pool2dParams {
  std::array<int64_t, 2> kernel_size = {2, 2};
  std::array<int64_t, 2> stride = {0, 0};  // 0: the kernel size (PyTorch's default)
  std::array<int64_t, 2> padding = {0, 0};
  std::array<int64_t, 2> dilation = {1, 1};  // max pooling only
  bool ceil_mode = false;
  bool count_include_pad = true;  // avg pooling only
};
// Pooling takes [N, C, H, W] or unbatched [C, H, W] ([N, C, L] or [C, L] for the 1-d forms); stride 0
// means the kernel size. Max over each window (padding counts as -inf); backward routes dy to the
// argmax kept from forward.
Tensor max_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor max_pool1d(const Tensor& x, const Pool2dParams& p);  // x [N, C, L]; element [1] of each param
Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor avg_pool1d(const Tensor& x, const Pool2dParams& p);
// Output [N, C, oH, oW]: window i spans [floor(i H / oH), ceil((i + 1) H / oH)), as PyTorch.
Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size);
Tensor adaptive_max_pool2d(const Tensor& x, std::array<int64_t, 2> output_size);

enum class UpsampleMode { Nearest, Bilinear };
// x [N, C, H, W] -> [N, C, oH, oW], by size or by scale factor (exactly one given); bilinear with
// align_corners as PyTorch's flag (default false).
Tensor upsample(const Tensor& x, std::optional<std::array<int64_t, 2>> size,
                std::optional<std::array<double, 2>> scale_factor, UpsampleMode mode = UpsampleMode::Nearest,
                bool align_corners = false);

}  // namespace xgrad
