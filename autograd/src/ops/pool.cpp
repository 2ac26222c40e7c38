// Differentiable pooling and upsampling. Each op is a map whose backward is its adjoint over the
// same windows, and the adjoint's backward is the op again, so gradients of every order stay in
// the set:
//   max pooling      y = gather(x, argmax)          dx = max_pool2d_backward(dy, argmax)  (a scatter)
//   average pooling  y = window means (linear)      dx = avg_pool2d_backward(dy)
//   upsampling       y = interpolation (linear)     dx = upsample_*_backward(dy)
// Max pooling keeps the argmax indices of the forward; the scatter's own backward gathers with
// them (recorded under the forward op's name: it is the op's linearisation at x).
#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "xgrad/autograd/node.hpp"
#include "xgrad/autograd/ops/conv.hpp"
#include "xgrad/autograd/ops/shape.hpp"
#include "xgrad/tensor/conv_kernels.hpp"

namespace xgrad {
namespace {

using kernels::PoolWindows;
using kernels::ResampleTaps;
using Windows = std::shared_ptr<const std::pair<PoolWindows, PoolWindows>>;  // (H, W), shared by every order
using Taps = std::shared_ptr<const std::pair<ResampleTaps, ResampleTaps>>;

// ---- max pooling --------------------------------------------------------------------------------------

Tensor max_gather(const Tensor& x, const Array& indices, std::string_view name);

// dx = zeros(x.shape) with dy added at the argmax    d(dy) = gather(ddx, argmax)
Tensor max_scatter(const Tensor& dy, const Array& indices, const Shape& x_shape, std::string_view name) {
  return record("max_pool2d_backward", kernels::max_pool2d_backward(dy.array(), indices, x_shape), {dy}, Save::Nothing,
                [indices, name](const Backward& c) -> Grads { return {max_gather(c.grad, indices, name)}; });
}

// y = x at the argmax of each window    dx = max_pool2d_backward(dy, argmax)
Tensor max_gather(const Tensor& x, const Array& indices, std::string_view name) {
  return record(
      name, kernels::max_pool2d_gather(x.array(), indices), {x}, Save::Nothing,
      [indices, name](const Backward& c) -> Grads { return {max_scatter(c.grad, indices, c.input_shape(0), name)}; });
}

// y = max over each window (argmax kept)    dx = max_pool2d_backward(dy, argmax)
Tensor max_pool(const Tensor& x, const PoolWindows& h, const PoolWindows& w, std::string_view name) {
  auto [y, indices] = kernels::max_pool2d(x.array(), h, w);
  return record(name, std::move(y), {x}, Save::Nothing,
                [indices = std::move(indices), name](const Backward& c) -> Grads {
                  return {max_scatter(c.grad, indices, c.input_shape(0), name)};
                });
}

// ---- average pooling ----------------------------------------------------------------------------------

Tensor avg_pool(const Tensor& x, const Windows& windows, std::string_view name);

// dx = dy / divisor spread over each window    d(dy) = avg_pool2d(ddx)
Tensor avg_spread(const Tensor& dy, const Windows& windows, std::string_view name) {
  return record("avg_pool2d_backward", kernels::avg_pool2d_backward(dy.array(), windows->first, windows->second), {dy},
                Save::Nothing,
                [windows, name](const Backward& c) -> Grads { return {avg_pool(c.grad, windows, name)}; });
}

// y = sum over each window / divisor    dx = avg_pool2d_backward(dy)
Tensor avg_pool(const Tensor& x, const Windows& windows, std::string_view name) {
  return record(name, kernels::avg_pool2d(x.array(), windows->first, windows->second), {x}, Save::Nothing,
                [windows, name](const Backward& c) -> Grads { return {avg_spread(c.grad, windows, name)}; });
}

// ---- resampling ---------------------------------------------------------------------------------------

// The op names of one interpolation mode and of its adjoint.
struct ResampleNames {
  std::string_view forward, backward;
};

Tensor resample(const Tensor& x, const Taps& taps, ResampleNames names);

// dx = the interpolation's adjoint applied to dy    d(dy) = interpolate(ddx)
Tensor resample_adjoint(const Tensor& dy, const Taps& taps, ResampleNames names) {
  return record(names.backward, kernels::resample2d_backward(dy.array(), taps->first, taps->second), {dy},
                Save::Nothing, [taps, names](const Backward& c) -> Grads { return {resample(c.grad, taps, names)}; });
}

// y = interpolate(x) (linear in x)    dx = upsample_*_backward(dy)
Tensor resample(const Tensor& x, const Taps& taps, ResampleNames names) {
  return record(names.forward, kernels::resample2d(x.array(), taps->first, taps->second), {x}, Save::Nothing,
                [taps, names](const Backward& c) -> Grads { return {resample_adjoint(c.grad, taps, names)}; });
}

// ---- argument checks --------------------------------------------------------------------------------

std::string str(const std::array<int64_t, 2>& a) {
  return "[" + std::to_string(a[0]) + ", " + std::to_string(a[1]) + "]";
}

void check_input(std::string_view op, const Tensor& x, int64_t min_dim, int64_t max_dim, std::string_view layout) {
  if (!x.defined()) throw ValueError(std::string(op) + ": input is undefined");
  if (!is_floating(x.dtype()))
    throw DTypeError(std::string(op) + ": expected a floating dtype (float32 or float64), got " +
                     std::string(dtype_name(x.dtype())));
  if (x.dim() < min_dim || x.dim() > max_dim)
    throw ShapeError(std::string(op) + ": expected a " + std::string(layout) + " input, got shape " +
                     to_string(x.shape()));
}

// Checks the parameters and makes the windows of a pooling op over x [..., H, W].
std::pair<PoolWindows, PoolWindows> pool_windows(std::string_view op, const Tensor& x, Pool2dParams p, bool max) {
  const std::string o(op);
  const int64_t in[2] = {x.shape()[x.dim() - 2], x.shape()[x.dim() - 1]};
  for (int d = 0; d < 2; ++d)
    if (p.stride[d] == 0) p.stride[d] = p.kernel_size[d];
  if (!max) p.dilation = {1, 1};
  if (p.kernel_size[0] <= 0 || p.kernel_size[1] <= 0)
    throw ValueError(o + ": kernel_size " + str(p.kernel_size) + " must be positive");
  if (p.stride[0] < 0 || p.stride[1] < 0) throw ValueError(o + ": stride " + str(p.stride) + " must be positive");
  if (p.dilation[0] <= 0 || p.dilation[1] <= 0)
    throw ValueError(o + ": dilation " + str(p.dilation) + " must be positive");
  if (p.padding[0] < 0 || p.padding[1] < 0 || 2 * p.padding[0] > p.kernel_size[0] ||
      2 * p.padding[1] > p.kernel_size[1])
    throw ValueError(o + ": padding " + str(p.padding) + " must be non-negative and at most half the kernel size " +
                     str(p.kernel_size));
  int64_t out[2];
  for (int d = 0; d < 2; ++d)
    out[d] = kernels::pool_output_size(in[d], p.kernel_size[d], p.stride[d], p.padding[d], p.dilation[d], p.ceil_mode);
  if (out[0] <= 0 || out[1] <= 0 || in[0] <= 0 || in[1] <= 0)
    throw ShapeError(o + ": input " + to_string(x.shape()) + " is too small for kernel " + str(p.kernel_size) +
                     " (padding " + str(p.padding) + ", dilation " + str(p.dilation) + "): output size [" +
                     std::to_string(out[0]) + ", " + std::to_string(out[1]) + "]");
  auto windows = [&](int d) {
    return kernels::sliding_windows(in[d], p.kernel_size[d], p.stride[d], p.padding[d], p.dilation[d], p.ceil_mode,
                                    p.count_include_pad);
  };
  return {windows(0), windows(1)};
}

// The 2-d parameters of a 1-d pooling: element [1] of each, the height a size-1 dim.
Pool2dParams as_2d(const Pool2dParams& p) {
  Pool2dParams q = p;
  q.kernel_size = {1, p.kernel_size[1]};
  q.stride = {1, p.stride[1]};
  q.padding = {0, p.padding[1]};
  q.dilation = {1, p.dilation[1]};
  return q;
}

std::pair<PoolWindows, PoolWindows> adaptive(std::string_view op, const Tensor& x, std::array<int64_t, 2> size) {
  check_input(op, x, 3, 4, "3-d [C, H, W] or 4-d [N, C, H, W]");
  const int64_t h = x.shape()[x.dim() - 2];
  const int64_t w = x.shape()[x.dim() - 1];
  if (size[0] <= 0 || size[1] <= 0)
    throw ValueError(std::string(op) + ": output_size " + str(size) + " must be positive");
  if (h <= 0 || w <= 0) throw ShapeError(std::string(op) + ": input " + to_string(x.shape()) + " has an empty plane");
  return {kernels::adaptive_windows(h, size[0]), kernels::adaptive_windows(w, size[1])};
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dParams& p) {
  check_input("max_pool2d", x, 3, 4, "3-d [C, H, W] or 4-d [N, C, H, W]");
  const auto [h, w] = pool_windows("max_pool2d", x, p, true);
  return max_pool(x, h, w, "max_pool2d");
}

Tensor max_pool1d(const Tensor& x, const Pool2dParams& p) {
  check_input("max_pool1d", x, 2, 3, "2-d [C, L] or 3-d [N, C, L]");
  const Tensor x2 = unsqueeze(x, -2);
  const auto [h, w] = pool_windows("max_pool1d", x2, as_2d(p), true);
  return squeeze(max_pool(x2, h, w, "max_pool2d"), -2);
}

Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p) {
  check_input("avg_pool2d", x, 3, 4, "3-d [C, H, W] or 4-d [N, C, H, W]");
  const auto windows =
      std::make_shared<const std::pair<PoolWindows, PoolWindows>>(pool_windows("avg_pool2d", x, p, false));
  return avg_pool(x, windows, "avg_pool2d");
}

Tensor avg_pool1d(const Tensor& x, const Pool2dParams& p) {
  check_input("avg_pool1d", x, 2, 3, "2-d [C, L] or 3-d [N, C, L]");
  const Tensor x2 = unsqueeze(x, -2);
  const auto windows =
      std::make_shared<const std::pair<PoolWindows, PoolWindows>>(pool_windows("avg_pool1d", x2, as_2d(p), false));
  return squeeze(avg_pool(x2, windows, "avg_pool2d"), -2);
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size) {
  const auto windows =
      std::make_shared<const std::pair<PoolWindows, PoolWindows>>(adaptive("adaptive_avg_pool2d", x, output_size));
  return avg_pool(x, windows, "adaptive_avg_pool2d");
}

Tensor adaptive_max_pool2d(const Tensor& x, std::array<int64_t, 2> output_size) {
  const auto [h, w] = adaptive("adaptive_max_pool2d", x, output_size);
  return max_pool(x, h, w, "adaptive_max_pool2d");
}

Tensor upsample(const Tensor& x, std::optional<std::array<int64_t, 2>> size,
                std::optional<std::array<double, 2>> scale_factor, UpsampleMode mode, bool align_corners) {
  check_input("upsample", x, 4, 4, "4-d [N, C, H, W]");
  if (size.has_value() == scale_factor.has_value())
    throw ValueError("upsample: give exactly one of size and scale_factor");
  if (mode == UpsampleMode::Nearest && align_corners)
    throw ValueError("upsample: align_corners applies to bilinear mode only");
  const int64_t in[2] = {x.shape()[2], x.shape()[3]};
  int64_t out[2];
  double scale[2] = {0.0, 0.0};
  for (int d = 0; d < 2; ++d) {
    if (size) {
      out[d] = (*size)[d];
    } else {
      scale[d] = (*scale_factor)[d];
      if (!(scale[d] > 0) || !std::isfinite(scale[d]))
        throw ValueError("upsample: scale_factor [" + std::to_string((*scale_factor)[0]) + ", " +
                         std::to_string((*scale_factor)[1]) + "] must be positive");
      out[d] = static_cast<int64_t>(std::floor(static_cast<double>(in[d]) * scale[d]));
    }
  }
  if (out[0] <= 0 || out[1] <= 0 || in[0] <= 0 || in[1] <= 0)
    throw ShapeError("upsample: input " + to_string(x.shape()) + " gives an empty output [" + std::to_string(out[0]) +
                     ", " + std::to_string(out[1]) + "]");
  if (mode == UpsampleMode::Nearest) {
    const auto taps = std::make_shared<const std::pair<ResampleTaps, ResampleTaps>>(
        kernels::nearest_taps(in[0], out[0], scale[0]), kernels::nearest_taps(in[1], out[1], scale[1]));
    return resample(x, taps, {"upsample_nearest", "upsample_nearest_backward"});
  }
  const auto taps = std::make_shared<const std::pair<ResampleTaps, ResampleTaps>>(
      kernels::linear_taps(in[0], out[0], scale[0], align_corners),
      kernels::linear_taps(in[1], out[1], scale[1], align_corners));
  return resample(x, taps, {"upsample_bilinear", "upsample_bilinear_backward"});
}

}  // namespace xgrad
