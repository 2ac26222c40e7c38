// Convolution layers and their functional forms (nn::functional::conv1d / conv2d /
// conv_transpose2d), plus the option helpers every layer of functional_conv.hpp shares.
#include "xgrad/nn/conv.hpp"

#include <charconv>
#include <cmath>
#include <functional>
#include <string>
#include <string_view>

#include "xgrad/autograd/ops/shape.hpp"
#include "xgrad/nn/init.hpp"

namespace xgrad::nn {

// ---- option helpers --------------------------------------------------------------------------------

namespace detail {

void throw_expanding_size(size_t expected, size_t got) {
  throw ValueError("ExpandingArray: expected " + std::to_string(expected) + " values (or one number), got " +
                   std::to_string(got));
}

void throw_padding_mode(const std::string& mode) {
  throw ValueError("padding: expected a number, \"same\" or \"valid\", got \"" + mode + "\"");
}

std::string python_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Python's repr: the shortest round-trip digits, positional for 1e-4 <= |v| < 1e16.
  const double a = std::abs(value);
  const bool positional = a == 0.0 || (a >= 1e-4 && a < 1e16);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), value,
                               positional ? std::chars_format::fixed : std::chars_format::scientific);
  std::string s(buf, r.ptr);
  if (positional && s.find('.') == std::string::npos) s += ".0";
  return s;
}

Tensor batched(std::string_view op, const Tensor& x, int64_t spatial, const std::function<Tensor(const Tensor&)>& fn) {
  if (!x.defined()) throw ValueError(std::string(op) + ": input is undefined");
  if (x.dim() == spatial + 2) return fn(x);
  if (x.dim() == spatial + 1) return squeeze(fn(unsqueeze(x, 0)), 0);
  throw ShapeError(std::string(op) + ": expected a " + std::to_string(spatial + 1) + "-d (unbatched) or " +
                   std::to_string(spatial + 2) + "-d (batched) input, got shape " + to_string(x.shape()));
}

}  // namespace detail

namespace {

template <size_t D> std::array<int64_t, 2> last(const ExpandingArray<D>& a, int64_t fill) {
  if constexpr (D == 1)
    return {fill, a[0]};
  else
    return {a[0], a[1]};
}

void check_weight(std::string_view op, const Tensor& weight, int64_t dims, const char* layout) {
  if (!weight.defined()) throw ValueError(std::string(op) + ": weight is undefined");
  if (weight.dim() != dims)
    throw ShapeError(std::string(op) + ": weight must be " + std::to_string(dims) + "-d " + layout + ", got shape " +
                     to_string(weight.shape()));
}

// The padding of conv1d / conv2d as symmetric amounts, and the extra zeros "same" needs at the end
// of a dim whose total padding dilation * (k - 1) is odd (PyTorch pads those at the right / bottom).
template <size_t D> struct ResolvedPadding {
  ExpandingArray<D> symmetric = 0;
  std::array<int64_t, D> extra{};
  bool any_extra = false;
};
template <size_t D> ResolvedPadding<D> resolve(std::string_view op, const ConvPadding<D>& padding,
                                               const ExpandingArray<D>& stride, const ExpandingArray<D>& dilation,
                                               const Shape& weight_shape) {
  using Mode = typename ConvPadding<D>::Mode;
  ResolvedPadding<D> r;
  if (padding.mode() == Mode::Explicit) r.symmetric = padding.amounts();
  if (padding.mode() != Mode::Same) return r;
  std::array<int64_t, D> left{};
  for (size_t d = 0; d < D; ++d) {
    if (stride[d] != 1)
      throw ValueError(std::string(op) + ": padding=\"same\" is not supported for strided convolutions (stride " +
                       stride.repr() + ")");
    const int64_t total = dilation[d] * (weight_shape[2 + d] - 1);
    left[d] = total / 2;
    r.extra[d] = total - 2 * left[d];
    r.any_extra |= r.extra[d] != 0;
  }
  r.symmetric = ExpandingArray<D>(left);
  return r;
}

// Pads the end of each spatial dim by `extra` (last dim first, as the pad op takes them).
template <size_t D> Tensor pad_end(const Tensor& x, const ResolvedPadding<D>& r) {
  if (!r.any_extra) return x;
  if constexpr (D == 1)
    return pad(x, {0, r.extra[0]});
  else
    return pad(x, {0, r.extra[1], 0, r.extra[0]});
}

}  // namespace

// ---- functional --------------------------------------------------------------------------------------

namespace functional {

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv1dFuncOptions& o) {
  check_weight("conv1d", weight, 3, "[out, in / groups, k]");
  const ResolvedPadding<1> r = resolve<1>("conv1d", o.padding, o.stride, o.dilation, weight.shape());
  const Conv2dParams p{.stride = last(o.stride, 1),
                       .padding = last(r.symmetric, 0),
                       .dilation = last(o.dilation, 1),
                       .groups = o.groups};
  return detail::batched("conv1d", x, 1,
                         [&](const Tensor& xb) { return xgrad::conv1d(pad_end(xb, r), weight, bias, p); });
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dFuncOptions& o) {
  check_weight("conv2d", weight, 4, "[out, in / groups, kH, kW]");
  const ResolvedPadding<2> r = resolve<2>("conv2d", o.padding, o.stride, o.dilation, weight.shape());
  const Conv2dParams p{.stride = o.stride.values(),
                       .padding = r.symmetric.values(),
                       .dilation = o.dilation.values(),
                       .groups = o.groups};
  return detail::batched("conv2d", x, 2,
                         [&](const Tensor& xb) { return xgrad::conv2d(pad_end(xb, r), weight, bias, p); });
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dFuncOptions& o) {
  check_weight("conv_transpose2d", weight, 4, "[in, out / groups, kH, kW]");
  const Conv2dParams p{.stride = o.stride.values(),
                       .padding = o.padding.values(),
                       .dilation = o.dilation.values(),
                       .groups = o.groups,
                       .output_padding = o.output_padding.values()};
  return detail::batched("conv_transpose2d", x, 2,
                         [&](const Tensor& xb) { return xgrad::conv_transpose2d(xb, weight, bias, p); });
}

}  // namespace functional

// ---- layers --------------------------------------------------------------------------------------------

namespace {

void check_positive(const char* layer, const char* what, int64_t v) {
  if (v <= 0) throw ValueError(std::string(layer) + ": " + what + " must be positive, got " + std::to_string(v));
}

template <size_t D> void check_positive(const char* layer, const char* what, const ExpandingArray<D>& a) {
  if (!a.has_value()) throw ValueError(std::string(layer) + ": " + what + " is required");
  for (size_t d = 0; d < D; ++d)
    if (a[d] <= 0) throw ValueError(std::string(layer) + ": " + what + " must be positive, got " + a.repr());
}

template <size_t D> void check_non_negative(const char* layer, const char* what, const ExpandingArray<D>& a) {
  for (size_t d = 0; d < D; ++d)
    if (a[d] < 0) throw ValueError(std::string(layer) + ": " + what + " must be non-negative, got " + a.repr());
}

void check_channels(const char* layer, int64_t in, int64_t out, int64_t groups) {
  check_positive(layer, "in_channels", in);
  check_positive(layer, "out_channels", out);
  check_positive(layer, "groups", groups);
  if (in % groups != 0)
    throw ValueError(std::string(layer) + ": in_channels=" + std::to_string(in) +
                     " must be divisible by groups=" + std::to_string(groups));
  if (out % groups != 0)
    throw ValueError(std::string(layer) + ": out_channels=" + std::to_string(out) +
                     " must be divisible by groups=" + std::to_string(groups));
}

// PyTorch's reset_parameters of every conv: kaiming_uniform_(a = sqrt(5)) for the weight (bound
// 1/sqrt(fan_in)), the bias uniform within the same bound.
void reset_conv(const Tensor& weight, const Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (!bias.defined()) return;
  const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).fan_in;
  if (fan_in == 0) return;
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  init::uniform_(bias, -bound, bound);
}

// "in, out, kernel_size=(k, k), stride=(s, s)" and the options that differ from their defaults,
// in the order of PyTorch's _ConvNd.extra_repr.
template <size_t D> std::string conv_repr(int64_t in, int64_t out, const ExpandingArray<D>& kernel,
                                          const ExpandingArray<D>& stride, const std::string& padding,
                                          bool padding_default, const ExpandingArray<D>& dilation,
                                          const ExpandingArray<D>* output_padding, int64_t groups, bool bias) {
  std::string s =
      std::to_string(in) + ", " + std::to_string(out) + ", kernel_size=" + kernel.repr() + ", stride=" + stride.repr();
  if (!padding_default) s += ", padding=" + padding;
  if (dilation != ExpandingArray<D>(1)) s += ", dilation=" + dilation.repr();
  if (output_padding && *output_padding != ExpandingArray<D>(0)) s += ", output_padding=" + output_padding->repr();
  if (groups != 1) s += ", groups=" + std::to_string(groups);
  if (!bias) s += ", bias=false";
  return s;
}

}  // namespace

namespace detail {

template <size_t D> ConvNd<D>::ConvNd(Options options) : options_(std::move(options)) {
  const char* layer = D == 1 ? "Conv1d" : "Conv2d";
  const Options& o = options_;
  check_channels(layer, o.in_channels, o.out_channels, o.groups);
  check_positive(layer, "kernel_size", o.kernel_size);
  check_positive(layer, "stride", o.stride);
  check_positive(layer, "dilation", o.dilation);
  if (o.padding.mode() == ConvPadding<D>::Mode::Explicit) check_non_negative(layer, "padding", o.padding.amounts());
  if (o.padding.mode() == ConvPadding<D>::Mode::Same && o.stride != ExpandingArray<D>(1))
    throw ValueError(std::string(layer) + ": padding=\"same\" is not supported for strided convolutions (stride " +
                     o.stride.repr() + ")");
  Shape shape{o.out_channels, o.in_channels / o.groups};
  for (size_t d = 0; d < D; ++d) shape.push_back(o.kernel_size[d]);
  weight = register_parameter("weight", empty(shape));
  if (o.bias) bias = register_parameter("bias", empty({o.out_channels}));
  reset_parameters();
}

template <size_t D> void ConvNd<D>::reset_parameters() {
  if (weight.defined()) reset_conv(weight, bias);
}

template <size_t D> Tensor ConvNd<D>::forward(const Tensor& x) {
  if (!weight.defined()) throw ValueError(type_name() + ": forward of an empty (default-constructed) layer");
  const Options& o = options_;
  if constexpr (D == 1)
    return functional::conv1d(x, weight, bias, {o.stride, o.padding, o.dilation, o.groups});
  else
    return functional::conv2d(x, weight, bias, {o.stride, o.padding, o.dilation, o.groups});
}

template <size_t D> std::string ConvNd<D>::extra_repr() const {
  const Options& o = options_;
  const bool zero = o.padding.mode() == ConvPadding<D>::Mode::Explicit && o.padding.amounts() == ExpandingArray<D>(0);
  return conv_repr<D>(o.in_channels, o.out_channels, o.kernel_size, o.stride, o.padding.repr(), zero, o.dilation,
                      nullptr, o.groups, o.bias);
}

template class ConvNd<1>;
template class ConvNd<2>;

}  // namespace detail

ConvTranspose2d::ConvTranspose2d(Options options) : options_(options) {
  const char* layer = "ConvTranspose2d";
  const Options& o = options_;
  check_channels(layer, o.in_channels, o.out_channels, o.groups);
  check_positive(layer, "kernel_size", o.kernel_size);
  check_positive(layer, "stride", o.stride);
  check_positive(layer, "dilation", o.dilation);
  check_non_negative(layer, "padding", o.padding);
  check_non_negative(layer, "output_padding", o.output_padding);
  for (size_t d = 0; d < 2; ++d)
    if (o.output_padding[d] >= o.stride[d] && o.output_padding[d] >= o.dilation[d])
      throw ValueError(std::string(layer) + ": output_padding " + o.output_padding.repr() +
                       " must be smaller than either stride " + o.stride.repr() + " or dilation " + o.dilation.repr());
  weight = register_parameter("weight",
                              empty({o.in_channels, o.out_channels / o.groups, o.kernel_size[0], o.kernel_size[1]}));
  if (o.bias) bias = register_parameter("bias", empty({o.out_channels}));
  reset_parameters();
}

void ConvTranspose2d::reset_parameters() {
  if (weight.defined()) reset_conv(weight, bias);
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  if (!weight.defined()) throw ValueError("ConvTranspose2d: forward of an empty (default-constructed) layer");
  const Options& o = options_;
  return functional::conv_transpose2d(x, weight, bias, {o.stride, o.padding, o.output_padding, o.groups, o.dilation});
}

std::string ConvTranspose2d::extra_repr() const {
  const Options& o = options_;
  return conv_repr<2>(o.in_channels, o.out_channels, o.kernel_size, o.stride, o.padding.repr(),
                      o.padding == ExpandingArray<2>(0), o.dilation, &o.output_padding, o.groups, o.bias);
}

}  // namespace xgrad::nn
