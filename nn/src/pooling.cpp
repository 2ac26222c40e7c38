// Pooling layers and their functional forms (nn::functional::max_pool2d, ...), over the pooling
// ops of autograd/ops/conv.hpp. The 1-d forms use element [1] (the width) of the 2-d parameters.
#include "xgrad/nn/pooling.hpp"

#include <array>
#include <string>

namespace xgrad::nn {
namespace {

// The D given values as the width (D = 1) or height and width of the 2-d parameters.
template <size_t D> std::array<int64_t, 2> as2(const ExpandingArray<D>& a, int64_t fill) {
  if constexpr (D == 1)
    return {fill, a[0]};
  else
    return {a[0], a[1]};
}

template <size_t D>
void check_kernel(const char* op, const ExpandingArray<D>& kernel, const ExpandingArray<D>& stride) {
  if (!kernel.has_value()) throw ValueError(std::string(op) + ": kernel_size is required");
  for (size_t d = 0; d < D; ++d) {
    if (kernel[d] <= 0) throw ValueError(std::string(op) + ": kernel_size must be positive, got " + kernel.repr());
    if (stride.has_value() && stride[d] <= 0)
      throw ValueError(std::string(op) + ": stride must be positive, got " + stride.repr());
  }
}

template <size_t D> Pool2dParams max_params(const char* op, const functional::MaxPoolFuncOptions<D>& o) {
  check_kernel(op, o.kernel_size, o.stride);
  return {.kernel_size = as2(o.kernel_size, 1),
          .stride = as2(o.stride.has_value() ? o.stride : o.kernel_size, 1),
          .padding = as2(o.padding, 0),
          .dilation = as2(o.dilation, 1),
          .ceil_mode = o.ceil_mode};
}

template <size_t D> Pool2dParams avg_params(const char* op, const functional::AvgPoolFuncOptions<D>& o) {
  check_kernel(op, o.kernel_size, o.stride);
  return {.kernel_size = as2(o.kernel_size, 1),
          .stride = as2(o.stride.has_value() ? o.stride : o.kernel_size, 1),
          .padding = as2(o.padding, 0),
          .ceil_mode = o.ceil_mode,
          .count_include_pad = o.count_include_pad};
}

std::array<int64_t, 2> checked_output_size(const char* op, const ExpandingArray<2>& size) {
  if (!size.has_value() || size[0] <= 0 || size[1] <= 0)
    throw ValueError(std::string(op) + ": output_size must be positive, got " +
                     (size.has_value() ? size.repr() : std::string("none")));
  return size.values();
}

}  // namespace

// ---- functional --------------------------------------------------------------------------------------

namespace functional {

Tensor max_pool1d(const Tensor& x, const MaxPool1dFuncOptions& o) {
  const Pool2dParams p = max_params("max_pool1d", o);
  return detail::batched("max_pool1d", x, 1, [&](const Tensor& xb) { return xgrad::max_pool1d(xb, p); });
}

Tensor max_pool2d(const Tensor& x, const MaxPool2dFuncOptions& o) {
  const Pool2dParams p = max_params("max_pool2d", o);
  return detail::batched("max_pool2d", x, 2, [&](const Tensor& xb) { return xgrad::max_pool2d(xb, p); });
}

Tensor avg_pool1d(const Tensor& x, const AvgPool1dFuncOptions& o) {
  const Pool2dParams p = avg_params("avg_pool1d", o);
  return detail::batched("avg_pool1d", x, 1, [&](const Tensor& xb) { return xgrad::avg_pool1d(xb, p); });
}

Tensor avg_pool2d(const Tensor& x, const AvgPool2dFuncOptions& o) {
  const Pool2dParams p = avg_params("avg_pool2d", o);
  return detail::batched("avg_pool2d", x, 2, [&](const Tensor& xb) { return xgrad::avg_pool2d(xb, p); });
}

Tensor adaptive_avg_pool2d(const Tensor& x, const ExpandingArray<2>& size) {
  const std::array<int64_t, 2> s = checked_output_size("adaptive_avg_pool2d", size);
  return detail::batched("adaptive_avg_pool2d", x, 2,
                         [&](const Tensor& xb) { return xgrad::adaptive_avg_pool2d(xb, s); });
}

Tensor adaptive_max_pool2d(const Tensor& x, const ExpandingArray<2>& size) {
  const std::array<int64_t, 2> s = checked_output_size("adaptive_max_pool2d", size);
  return detail::batched("adaptive_max_pool2d", x, 2,
                         [&](const Tensor& xb) { return xgrad::adaptive_max_pool2d(xb, s); });
}

}  // namespace functional

// ---- layers --------------------------------------------------------------------------------------------

namespace detail {

template <size_t D> MaxPoolNd<D>::MaxPoolNd(Options options) : options_(options) {
  max_params(D == 1 ? "MaxPool1d" : "MaxPool2d", options_);  // checks
}

template <size_t D> Tensor MaxPoolNd<D>::forward(const Tensor& x) {
  if constexpr (D == 1)
    return functional::max_pool1d(x, options_);
  else
    return functional::max_pool2d(x, options_);
}

// PyTorch keeps the values as given (a number stays a number) and a missing stride is the kernel size.
template <size_t D> std::string MaxPoolNd<D>::extra_repr() const {
  const Options& o = options_;
  return "kernel_size=" + o.kernel_size.repr(true) +
         ", stride=" + (o.stride.has_value() ? o.stride : o.kernel_size).repr(true) +
         ", padding=" + o.padding.repr(true) + ", dilation=" + o.dilation.repr(true) +
         ", ceil_mode=" + bool_repr(o.ceil_mode);
}

template <size_t D> AvgPoolNd<D>::AvgPoolNd(Options options) : options_(options) {
  avg_params(D == 1 ? "AvgPool1d" : "AvgPool2d", options_);  // checks
}

template <size_t D> Tensor AvgPoolNd<D>::forward(const Tensor& x) {
  if constexpr (D == 1)
    return functional::avg_pool1d(x, options_);
  else
    return functional::avg_pool2d(x, options_);
}

// AvgPool1d stores tuples (_single), AvgPool2d the values as given.
template <size_t D> std::string AvgPoolNd<D>::extra_repr() const {
  const Options& o = options_;
  constexpr bool as_given = D == 2;
  return "kernel_size=" + o.kernel_size.repr(as_given) +
         ", stride=" + (o.stride.has_value() ? o.stride : o.kernel_size).repr(as_given) +
         ", padding=" + o.padding.repr(as_given);
}

template <bool kMax> AdaptivePool2d<kMax>::AdaptivePool2d(ExpandingArray<2> size) : output_size_(size) {
  checked_output_size(kMax ? "AdaptiveMaxPool2d" : "AdaptiveAvgPool2d", output_size_);  // checks
}

template <bool kMax> Tensor AdaptivePool2d<kMax>::forward(const Tensor& x) {
  return kMax ? functional::adaptive_max_pool2d(x, output_size_) : functional::adaptive_avg_pool2d(x, output_size_);
}

template <bool kMax> std::string AdaptivePool2d<kMax>::extra_repr() const {
  return "output_size=" + output_size_.repr(true);
}

template class MaxPoolNd<1>;
template class MaxPoolNd<2>;
template class AvgPoolNd<1>;
template class AvgPoolNd<2>;
template class AdaptivePool2d<false>;
template class AdaptivePool2d<true>;

}  // namespace detail
}  // namespace xgrad::nn
