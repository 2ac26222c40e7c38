#pragma once
// Convolution layers with PyTorch's names, options, layouts and initialisation, so weights move
// between the two frameworks unchanged:
//   Conv1d / Conv2d    weight [out_channels, in_channels / groups, k...], bias [out_channels]
//   ConvTranspose2d    weight [in_channels, out_channels / groups, kH, kW], bias [out_channels]
// The weight is kaiming_uniform_(a = sqrt(5)) and the bias uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)),
// fan_in = weight.size(1) * kH * kW, as in PyTorch.
//   nn::Conv2d conv({.in_channels = 1, .out_channels = 32, .kernel_size = 3, .padding = 1});
//   nn::Conv2d same({.in_channels = 3, .out_channels = 8, .kernel_size = 4, .padding = "same"});
//   nn::Conv2d plain(3, 8, 3);  // in, out, kernel_size
#include <cstddef>
#include <cstdint>
#include <string>

#include "xgrad/nn/functional_conv.hpp"
#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

template <size_t D> struct ConvOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  ExpandingArray<D> kernel_size = {};  // required
  ExpandingArray<D> stride = 1;
  ConvPadding<D> padding = 0;  // numbers, "same" or "valid"
  ExpandingArray<D> dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};
using Conv1dOptions = ConvOptions<1>;
using Conv2dOptions = ConvOptions<2>;

struct ConvTranspose2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  ExpandingArray<2> kernel_size = {};  // required
  ExpandingArray<2> stride = 1;
  ExpandingArray<2> padding = 0;
  ExpandingArray<2> output_padding = 0;  // extra rows / cols at the end; below stride or dilation
  int64_t groups = 1;
  bool bias = true;
  ExpandingArray<2> dilation = 1;
};

namespace detail {

// Conv1d and Conv2d: the same layer over D spatial dims.
template <size_t D> class ConvNd : public Module {
 public:
  using Options = ConvOptions<D>;
  ConvNd() = default;  // an empty layer, to be assigned later
  explicit ConvNd(Options options);
  ConvNd(int64_t in_channels, int64_t out_channels, ExpandingArray<D> kernel_size)
      : ConvNd(Options{.in_channels = in_channels, .out_channels = out_channels, .kernel_size = kernel_size}) {}

  // [N, in, spatial...] (or unbatched [in, spatial...]) -> [N, out, spatial'...]
  Tensor forward(const Tensor& x) override;
  // "1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)", as PyTorch prints it.
  std::string extra_repr() const override;
  // Draws fresh initial values (from the default generator), in place.
  void reset_parameters();
  const Options& options() const { return options_; }

  Tensor weight;  // [out_channels, in_channels / groups, k...]
  Tensor bias;    // [out_channels], undefined without bias

 private:
  Options options_;
};

extern template class ConvNd<1>;
extern template class ConvNd<2>;

}  // namespace detail

class Conv1d : public detail::ConvNd<1> {
 public:
  using ConvNd::ConvNd;
  std::string type_name() const override { return "Conv1d"; }
};

class Conv2d : public detail::ConvNd<2> {
 public:
  using ConvNd::ConvNd;
  std::string type_name() const override { return "Conv2d"; }
};

class ConvTranspose2d : public Module {
 public:
  using Options = ConvTranspose2dOptions;
  ConvTranspose2d() = default;
  explicit ConvTranspose2d(Options options);
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, ExpandingArray<2> kernel_size)
      : ConvTranspose2d(Options{.in_channels = in_channels, .out_channels = out_channels, .kernel_size = kernel_size}) {
  }

  // [N, in, H, W] (or [in, H, W]) -> [N, out, H', W'],
  // H' = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ConvTranspose2d"; }
  std::string extra_repr() const override;
  void reset_parameters();
  const Options& options() const { return options_; }

  Tensor weight;  // [in_channels, out_channels / groups, kH, kW]
  Tensor bias;    // [out_channels], undefined without bias

 private:
  Options options_;
};

}  // namespace xgrad::nn
