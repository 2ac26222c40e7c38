// Differentiable convolutions and padding. The three convolution ops share one geometry
// (kernels::ConvGeometry, always in the direction of conv2d) and are each other's adjoints, so
// every backward, and every backward of a backward, is again one of them:
//   y = conv(x, w)        dx = conv^T(dy, w)    dw = conv_weight(x, dy)
//   y = conv^T(x, w)      dx = conv(dy, w)      dw = conv_weight(dy, x)
//   dw = conv_weight(x, dy)   d x = conv^T(dy, ddw)   d dy = conv(x, ddw)
// The public functions check their arguments (with PyTorch's shapes) and build the geometry.
#include "xgrad/autograd/ops/conv.hpp"

#include <string>
#include <string_view>

#include "xgrad/autograd/node.hpp"
#include "xgrad/autograd/ops/reduce.hpp"
#include "xgrad/autograd/ops/shape.hpp"
#include "xgrad/tensor/conv_kernels.hpp"

namespace xgrad {
namespace {

using kernels::ConvGeometry;

Tensor conv_transpose_impl(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeometry& g);
Tensor conv_weight_impl(const Tensor& x, const Tensor& dy, const ConvGeometry& g);

const Array& array_or_none(const Tensor& t) {
  static const Array none;
  return t.defined() ? t.array() : none;
}

// The bias gradient sum(dy, {0, 2, 3}): the planes first (adjacent dims, no copy), then the batch;
// one pass over {0, 2, 3} would first copy dy to put the reduced dims together.
Tensor bias_grad(const Tensor& dy) { return sum(sum(dy, {2, 3}), {0}); }

// y = conv(x, w) + b    dx = conv^T(dy, w)    dw = conv_weight(x, dy)    db = sum(dy, {0, 2, 3})
Tensor conv_impl(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeometry& g) {
  return record("conv2d", kernels::conv2d(x.array(), w.array(), array_or_none(b), g), {x, w, b}, Save::Inputs,
                [g](const Backward& c) -> Grads {
                  return {c.needs(0) ? conv_transpose_impl(c.grad, c.input(1), {}, g) : Tensor{},
                          c.needs(1) ? conv_weight_impl(c.input(0), c.grad, g) : Tensor{},
                          c.needs(2) ? bias_grad(c.grad) : Tensor{}};
                });
}

// y = conv^T(x, w) + b    dx = conv(dy, w)    dw = conv_weight(dy, x)    db = sum(dy, {0, 2, 3})
// (x has the conv's output shape, y its input shape)
Tensor conv_transpose_impl(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeometry& g) {
  return record("conv_transpose2d", kernels::conv2d_input_grad(x.array(), w.array(), array_or_none(b), g), {x, w, b},
                Save::Inputs, [g](const Backward& c) -> Grads {
                  return {c.needs(0) ? conv_impl(c.grad, c.input(1), {}, g) : Tensor{},
                          c.needs(1) ? conv_weight_impl(c.grad, c.input(0), g) : Tensor{},
                          c.needs(2) ? bias_grad(c.grad) : Tensor{}};
                });
}

// dw = conv_weight(x, dy)    dx = conv^T(dy, ddw)    ddy = conv(x, ddw)
Tensor conv_weight_impl(const Tensor& x, const Tensor& dy, const ConvGeometry& g) {
  return record("conv2d_weight", kernels::conv2d_weight_grad(x.array(), dy.array(), g), {x, dy}, Save::Inputs,
                [g](const Backward& c) -> Grads {
                  return {c.needs(0) ? conv_transpose_impl(c.input(1), c.grad, {}, g) : Tensor{},
                          c.needs(1) ? conv_impl(c.input(0), c.grad, {}, g) : Tensor{}};
                });
}

// ---- argument checks --------------------------------------------------------------------------------

std::string str(const Tensor& t) { return to_string(t.shape()); }
std::string str(const std::array<int64_t, 2>& a) {
  return "[" + std::to_string(a[0]) + ", " + std::to_string(a[1]) + "]";
}

void check_dtypes(std::string_view op, const Tensor& x, const Tensor& w, const Tensor& b, std::string_view second) {
  const std::string o(op);
  if (!x.defined() || !w.defined()) throw ValueError(o + ": input and " + std::string(second) + " must be defined");
  if (!is_floating(x.dtype()))
    throw DTypeError(o + ": expected a floating dtype (float32 or float64), got " + std::string(dtype_name(x.dtype())));
  if (w.dtype() != x.dtype())
    throw DTypeError(o + ": input dtype " + std::string(dtype_name(x.dtype())) + " and " + std::string(second) +
                     " dtype " + std::string(dtype_name(w.dtype())) + " differ");
  if (b.defined() && b.dtype() != x.dtype())
    throw DTypeError(o + ": input dtype " + std::string(dtype_name(x.dtype())) + " and bias dtype " +
                     std::string(dtype_name(b.dtype())) + " differ");
}

void check_dims(std::string_view op, const Tensor& t, int64_t dims, std::string_view what, std::string_view layout) {
  if (t.dim() != dims)
    throw ShapeError(std::string(op) + ": expected a " + std::to_string(dims) + "-d " + std::string(what) + " " +
                     std::string(layout) + ", got shape " + str(t));
}

void check_params(std::string_view op, const Conv2dParams& p) {
  const std::string o(op);
  if (p.stride[0] <= 0 || p.stride[1] <= 0) throw ValueError(o + ": stride " + str(p.stride) + " must be positive");
  if (p.dilation[0] <= 0 || p.dilation[1] <= 0)
    throw ValueError(o + ": dilation " + str(p.dilation) + " must be positive");
  if (p.padding[0] < 0 || p.padding[1] < 0)
    throw ValueError(o + ": padding " + str(p.padding) + " must be non-negative");
  if (p.groups <= 0) throw ValueError(o + ": groups must be positive, got " + std::to_string(p.groups));
}

void check_bias(std::string_view op, const Tensor& b, int64_t channels, const Tensor& w) {
  if (b.defined() && (b.dim() != 1 || b.shape()[0] != channels))
    throw ShapeError(std::string(op) + ": bias shape " + str(b) + " does not match the " + std::to_string(channels) +
                     " output channels of weight " + str(w));
}

ConvGeometry geometry(const Shape& xs, int64_t c_out, const Shape& ws, const Conv2dParams& p) {
  ConvGeometry g;
  g.n = xs[0];
  g.c_in = xs[1];
  g.h = xs[2];
  g.w = xs[3];
  g.c_out = c_out;
  g.kh = ws[2];
  g.kw = ws[3];
  g.sh = p.stride[0];
  g.sw = p.stride[1];
  g.ph = p.padding[0];
  g.pw = p.padding[1];
  g.dh = p.dilation[0];
  g.dw = p.dilation[1];
  g.groups = p.groups;
  g.oh = kernels::conv_output_size(g.h, g.kh, g.sh, g.ph, g.dh);
  g.ow = kernels::conv_output_size(g.w, g.kw, g.sw, g.pw, g.dw);
  return g;
}

// The checks conv2d and conv1d share: xs, ws are the 4-d shapes, x, w what the caller passed (for
// the messages).
ConvGeometry conv_geometry(std::string_view op, const Shape& xs, const Shape& ws, const Tensor& x, const Tensor& w,
                           const Tensor& b, const Conv2dParams& p) {
  check_params(op, p);
  const std::string o(op);
  if (ws[0] % p.groups != 0)
    throw ValueError(o + ": weight " + str(w) + " has " + std::to_string(ws[0]) +
                     " output channels, not divisible by groups " + std::to_string(p.groups));
  if (xs[1] != ws[1] * p.groups)
    throw ShapeError(o + ": input " + str(x) + " has " + std::to_string(xs[1]) + " channels but weight " + str(w) +
                     " expects " + std::to_string(ws[1] * p.groups) + " (groups " + std::to_string(p.groups) + ")");
  check_bias(op, b, ws[0], w);
  if (ws[2] <= 0 || ws[3] <= 0) throw ShapeError(o + ": weight " + str(w) + " has an empty kernel");
  ConvGeometry g = geometry(xs, ws[0], ws, p);
  if (g.oh <= 0 || g.ow <= 0 || xs[2] <= 0 || xs[3] <= 0)
    throw ShapeError(o + ": input " + str(x) + " with padding " + str(p.padding) +
                     " is smaller than the kernel of weight " + str(w) + " dilated by " + str(p.dilation) +
                     " (output size [" + std::to_string(g.oh) + ", " + std::to_string(g.ow) + "])");
  return g;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  check_dtypes("conv2d", x, weight, bias, "weight");
  check_dims("conv2d", x, 4, "input", "[N, C_in, H, W]");
  check_dims("conv2d", weight, 4, "weight", "[C_out, C_in / groups, kH, kW]");
  return conv_impl(x, weight, bias, conv_geometry("conv2d", x.shape(), weight.shape(), x, weight, bias, p));
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  check_dtypes("conv1d", x, weight, bias, "weight");
  check_dims("conv1d", x, 3, "input", "[N, C_in, L]");
  check_dims("conv1d", weight, 3, "weight", "[C_out, C_in / groups, k]");
  Conv2dParams q = p;
  q.stride = {1, p.stride[1]};
  q.padding = {0, p.padding[1]};
  q.dilation = {1, p.dilation[1]};
  const ConvGeometry g =
      conv_geometry("conv1d", {x.shape()[0], x.shape()[1], 1, x.shape()[2]},
                    {weight.shape()[0], weight.shape()[1], 1, weight.shape()[2]}, x, weight, bias, q);
  return squeeze(conv_impl(unsqueeze(x, 2), unsqueeze(weight, 2), bias, g), 2);
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  check_dtypes("conv_transpose2d", x, weight, bias, "weight");
  check_dims("conv_transpose2d", x, 4, "input", "[N, C_in, H, W]");
  check_dims("conv_transpose2d", weight, 4, "weight", "[C_in, C_out / groups, kH, kW]");
  check_params("conv_transpose2d", p);
  const auto& op = p.output_padding;
  if (op[0] < 0 || op[1] < 0 || (op[0] >= p.stride[0] && op[0] >= p.dilation[0]) ||
      (op[1] >= p.stride[1] && op[1] >= p.dilation[1]))
    throw ValueError("conv_transpose2d: output_padding " + str(op) + " must be smaller than stride " + str(p.stride) +
                     " or dilation " + str(p.dilation));
  const Shape& xs = x.shape();
  const Shape& ws = weight.shape();
  if (xs[1] != ws[0])
    throw ShapeError("conv_transpose2d: input " + str(x) + " has " + std::to_string(xs[1]) + " channels but weight " +
                     str(weight) + " expects " + std::to_string(ws[0]));
  if (ws[0] % p.groups != 0)
    throw ValueError("conv_transpose2d: weight " + str(weight) + " has " + std::to_string(ws[0]) +
                     " input channels, not divisible by groups " + std::to_string(p.groups));
  if (ws[2] <= 0 || ws[3] <= 0) throw ShapeError("conv_transpose2d: weight " + str(weight) + " has an empty kernel");
  const int64_t c_out = ws[1] * p.groups;
  check_bias("conv_transpose2d", bias, c_out, weight);
  // The transposed op's output is the input of the conv it transposes.
  const int64_t h = (xs[2] - 1) * p.stride[0] - 2 * p.padding[0] + p.dilation[0] * (ws[2] - 1) + op[0] + 1;
  const int64_t w = (xs[3] - 1) * p.stride[1] - 2 * p.padding[1] + p.dilation[1] * (ws[3] - 1) + op[1] + 1;
  if (h <= 0 || w <= 0 || xs[2] <= 0 || xs[3] <= 0)
    throw ShapeError("conv_transpose2d: input " + str(x) + " with weight " + str(weight) + ", stride " + str(p.stride) +
                     " and padding " + str(p.padding) + " gives an empty output [" + std::to_string(h) + ", " +
                     std::to_string(w) + "]");
  ConvGeometry g = geometry({xs[0], c_out, h, w}, xs[1], ws, p);
  g.oh = xs[2];  // at most the natural size (H + output_padding / stride)
  g.ow = xs[3];
  return conv_transpose_impl(x, weight, bias, g);
}

Tensor conv2d_weight(const Tensor& x, const Tensor& dy, std::array<int64_t, 2> kernel_size, const Conv2dParams& p) {
  check_dtypes("conv2d_weight", x, dy, {}, "output gradient");
  check_dims("conv2d_weight", x, 4, "input", "[N, C_in, H, W]");
  check_dims("conv2d_weight", dy, 4, "output gradient", "[N, C_out, H', W']");
  check_params("conv2d_weight", p);
  if (kernel_size[0] <= 0 || kernel_size[1] <= 0)
    throw ValueError("conv2d_weight: kernel_size " + str(kernel_size) + " must be positive");
  const Shape& xs = x.shape();
  const Shape& ds = dy.shape();
  if (xs[1] % p.groups != 0 || ds[1] % p.groups != 0)
    throw ValueError("conv2d_weight: input " + str(x) + " and output gradient " + str(dy) +
                     " channels must be divisible by groups " + std::to_string(p.groups));
  ConvGeometry g = geometry(xs, ds[1], {ds[1], xs[1] / p.groups, kernel_size[0], kernel_size[1]}, p);
  if (ds[0] != xs[0] || ds[2] <= 0 || ds[3] <= 0 || ds[2] > g.oh || ds[3] > g.ow)
    throw ShapeError("conv2d_weight: output gradient " + str(dy) + " does not fit input " + str(x) + " with kernel " +
                     str(kernel_size) + " (conv2d output [" + std::to_string(xs[0]) + ", " + std::to_string(ds[1]) +
                     ", " + std::to_string(g.oh) + ", " + std::to_string(g.ow) + "])");
  g.oh = ds[2];
  g.ow = ds[3];
  return conv_weight_impl(x, dy, g);
}

// y = x padded with `value` (negative pads crop)    dx = pad(dy, -pads, 0)
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value) {
  std::vector<int64_t> inverse(pads.size());
  for (size_t i = 0; i < pads.size(); ++i) inverse[i] = -pads[i];
  return record("pad", kernels::pad(x.array(), pads, value), {x}, Save::Nothing,
                [inverse = std::move(inverse)](const Backward& c) -> Grads { return {pad(c.grad, inverse, 0.0)}; });
}

}  // namespace xgrad
