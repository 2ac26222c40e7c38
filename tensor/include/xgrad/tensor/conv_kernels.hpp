#pragma once
// Value kernels of convolution, pooling, resampling and padding over [N, C, H, W] arrays (pooling
// and resampling take any leading dims: every [H, W] plane is independent). Floating dtypes only;
// inputs may have any strides (they are made contiguous first). Results are fresh contiguous arrays.
#include <cstdint>
#include <utility>
#include <vector>

#include "xgrad/tensor/array.hpp"

namespace xgrad::kernels {

// ---- convolution ----------------------------------------------------------------------------
// One 2-d convolution, always described in the direction of conv2d: input [n, c_in, h, w],
// weight [c_out, c_in / groups, kh, kw], output [n, c_out, oh, ow], where output (i, j) reads input
// (i sh - ph + a dh, j sw - pw + b dw) for a < kh, b < kw, zero outside the input. oh / ow may be
// less than the natural size (a cropped output), never more. The transposed convolution is the
// adjoint in x of the same geometry, so all three kernels below share one description.
struct ConvGeometry {
  int64_t n = 0, c_in = 0, h = 0, w = 0;
  int64_t c_out = 0, kh = 1, kw = 1;
  int64_t oh = 0, ow = 0;
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int64_t groups = 1;
};
// The natural output size of a convolution along one dim (may be <= 0 for a too small input).
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation);

// y [n, c_out, oh, ow] = conv(x, weight) + bias; bias [c_out] or undefined.
Array conv2d(const Array& x, const Array& weight, const Array& bias, const ConvGeometry& g);
// The adjoint in x: dy [n, c_out, oh, ow] -> [n, c_in, h, w], plus bias [c_in] or undefined. This is
// the transposed convolution (col2im of weight^T dy).
Array conv2d_input_grad(const Array& dy, const Array& weight, const Array& bias, const ConvGeometry& g);
// The adjoint in weight: x [n, c_in, h, w], dy [n, c_out, oh, ow] -> [c_out, c_in / groups, kh, kw].
Array conv2d_weight_grad(const Array& x, const Array& dy, const ConvGeometry& g);

// ---- pooling --------------------------------------------------------------------------------
// The windows of a pooling op along one spatial dim: output i reads input positions begin[i],
// begin[i] + step, ... < end[i] (already clipped to [0, in)); average pooling divides by the
// product of both dims' divisor[i].
struct PoolWindows {
  int64_t in = 0;
  int64_t step = 1;  // max pooling's dilation
  std::vector<int64_t> begin, end, divisor;
  int64_t out() const { return static_cast<int64_t>(begin.size()); }
};
// PyTorch's pooling output size: (in + 2 pad - dilation (kernel - 1) - 1) / stride + 1, rounded
// down, or up with ceil_mode (but the last window must start inside the input or its left padding).
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode);
// Sliding windows; count_include_pad counts padding (not past in + pad) in the divisor.
PoolWindows sliding_windows(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode,
                            bool count_include_pad);
// Adaptive windows [floor(i in / out), ceil((i + 1) in / out)).
PoolWindows adaptive_windows(int64_t in, int64_t out);

// Max over each window of x [..., H, W]: values and int64 indices (flat in the H * W plane; -1 for
// a window with no tap inside the input, whose value is -inf). NaN wins, as in PyTorch.
std::pair<Array, Array> max_pool2d(const Array& x, const PoolWindows& h, const PoolWindows& w);
// dx [..., h.in, w.in] (x_shape) with dy added at the indices: the adjoint of gathering by them.
Array max_pool2d_backward(const Array& dy, const Array& indices, const Shape& x_shape);
// y[..., i] = x[..., indices[..., i]] per plane (0 for index -1): the gather max_pool2d's linearisation is.
Array max_pool2d_gather(const Array& x, const Array& indices);
// Mean over each window of x [..., H, W].
Array avg_pool2d(const Array& x, const PoolWindows& h, const PoolWindows& w);
// The adjoint: dy [..., oH, oW] spread over the windows -> [..., h.in, w.in].
Array avg_pool2d_backward(const Array& dy, const PoolWindows& h, const PoolWindows& w);

// ---- resampling -----------------------------------------------------------------------------
// Interpolation along one dim: output i = l0[i] x[i0[i]] + l1[i] x[i1[i]].
struct ResampleTaps {
  int64_t in = 0;
  bool nearest = false;  // one tap (l0 = 1, l1 = 0)
  std::vector<int64_t> i0, i1;
  std::vector<double> l0, l1;
  int64_t out() const { return static_cast<int64_t>(i0.size()); }
};
// PyTorch's 'nearest': i0 = min(floor(i scale), in - 1), scale = 1 / scale_factor when one is given
// (> 0), else in / out.
ResampleTaps nearest_taps(int64_t in, int64_t out, double scale_factor);
// PyTorch's linear interpolation with align_corners: source i (in - 1) / (out - 1), or without it
// max((i + 0.5) scale - 0.5, 0) with scale as for nearest.
ResampleTaps linear_taps(int64_t in, int64_t out, double scale_factor, bool align_corners);
// x [..., H, W] -> [..., h.out, w.out], separably.
Array resample2d(const Array& x, const ResampleTaps& h, const ResampleTaps& w);
// The adjoint: dy [..., h.out, w.out] -> [..., h.in, w.in].
Array resample2d_backward(const Array& dy, const ResampleTaps& h, const ResampleTaps& w);

// ---- padding --------------------------------------------------------------------------------
// Constant padding of the last dims, torch.nn.functional.pad's order: {left, right} of the last dim,
// then {top, bottom} of the one before, ...; negative amounts crop. Any dtype.
Array pad(const Array& x, const std::vector<int64_t>& pads, double value);

}  // namespace xgrad::kernels
