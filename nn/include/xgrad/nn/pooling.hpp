#pragma once
// Pooling layers with PyTorch's names, options and printing: MaxPool1d / MaxPool2d, AvgPool1d /
// AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d. Inputs [N, C, spatial...] or unbatched
// [C, spatial...].
//   nn::MaxPool2d(2)                                   // kernel 2, stride 2
//   nn::MaxPool2d({.kernel_size = 3, .stride = 2, .padding = 1})
//   nn::AdaptiveAvgPool2d(1)                           // global average pooling -> [N, C, 1, 1]
#include <cstddef>
#include <string>

#include "xgrad/nn/functional_conv.hpp"
#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

template <size_t D> using MaxPoolOptions = functional::MaxPoolFuncOptions<D>;
template <size_t D> using AvgPoolOptions = functional::AvgPoolFuncOptions<D>;

namespace detail {

template <size_t D> class MaxPoolNd : public Module {
 public:
  using Options = MaxPoolOptions<D>;
  explicit MaxPoolNd(Options options);
  explicit MaxPoolNd(ExpandingArray<D> kernel_size) : MaxPoolNd(Options{.kernel_size = kernel_size}) {}
  Tensor forward(const Tensor& x) override;
  // "kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false" (values as given)
  std::string extra_repr() const override;
  const Options& options() const { return options_; }

 private:
  Options options_;
};

template <size_t D> class AvgPoolNd : public Module {
 public:
  using Options = AvgPoolOptions<D>;
  explicit AvgPoolNd(Options options);
  explicit AvgPoolNd(ExpandingArray<D> kernel_size) : AvgPoolNd(Options{.kernel_size = kernel_size}) {}
  Tensor forward(const Tensor& x) override;
  // AvgPool1d: "kernel_size=(2,), stride=(2,), padding=(0,)"; AvgPool2d: "kernel_size=2, stride=2, padding=0"
  std::string extra_repr() const override;
  const Options& options() const { return options_; }

 private:
  Options options_;
};

template <bool kMax> class AdaptivePool2d : public Module {
 public:
  explicit AdaptivePool2d(ExpandingArray<2> output_size);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;  // "output_size=(1, 1)" or "output_size=1"
  const ExpandingArray<2>& output_size() const { return output_size_; }

 private:
  ExpandingArray<2> output_size_;
};

extern template class MaxPoolNd<1>;
extern template class MaxPoolNd<2>;
extern template class AvgPoolNd<1>;
extern template class AvgPoolNd<2>;
extern template class AdaptivePool2d<false>;
extern template class AdaptivePool2d<true>;

}  // namespace detail

class MaxPool1d : public detail::MaxPoolNd<1> {
 public:
  using MaxPoolNd::MaxPoolNd;
  std::string type_name() const override { return "MaxPool1d"; }
};
class MaxPool2d : public detail::MaxPoolNd<2> {
 public:
  using MaxPoolNd::MaxPoolNd;
  std::string type_name() const override { return "MaxPool2d"; }
};
class AvgPool1d : public detail::AvgPoolNd<1> {
 public:
  using AvgPoolNd::AvgPoolNd;
  std::string type_name() const override { return "AvgPool1d"; }
};
class AvgPool2d : public detail::AvgPoolNd<2> {
 public:
  using AvgPoolNd::AvgPoolNd;
  std::string type_name() const override { return "AvgPool2d"; }
};
// Output [N, C, oH, oW] whatever the input size: window i spans [floor(i H / oH), ceil((i + 1) H / oH)).
class AdaptiveAvgPool2d : public detail::AdaptivePool2d<false> {
 public:
  using AdaptivePool2d::AdaptivePool2d;
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
};
class AdaptiveMaxPool2d : public detail::AdaptivePool2d<true> {
 public:
  using AdaptivePool2d::AdaptivePool2d;
  std::string type_name() const override { return "AdaptiveMaxPool2d"; }
};

}  // namespace xgrad::nn
