// Convolution, pooling and upsampling layers: PyTorch's parameter names, layouts, initialisation
// bounds and printing; output shapes over many option combinations ("same" padding with even
// kernels included); unbatched inputs; values checked against hand sums and an explicit pad;
// gradients through the layers; and the summary of a small CNN.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "layer_checks.hpp"
#include "xgrad/nn/nn.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::nn {
namespace {

using testing::check_layer;
using testing::expect_error;
using testing::names;
namespace F = functional;
using D = std::vector<double>;
using Names = std::vector<std::string>;

void expect_near(const Tensor& t, const D& want, double tol = 1e-5) {
  ASSERT_TRUE(t.defined());
  const D got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

// ---- options -----------------------------------------------------------------------------------------------

TEST(ConvOptions, ExpandingArraysAndPaddingModes) {
  const ExpandingArray<2> one = 3, two = {3, 5};
  EXPECT_EQ(one.values(), (std::array<int64_t, 2>{3, 3}));
  EXPECT_EQ(one.repr(), "(3, 3)");
  EXPECT_EQ(one.repr(true), "3");
  EXPECT_EQ(two.repr(true), "(3, 5)");
  EXPECT_EQ(ExpandingArray<1>(4).repr(), "(4,)");
  EXPECT_FALSE(ExpandingArray<2>().has_value());
  EXPECT_EQ((ExpandingArray<2, double>(2)).repr(true), "2.0");
  EXPECT_EQ((ExpandingArray<2, double>{1.5, 0.25}).repr(), "(1.5, 0.25)");
  expect_error<ValueError>([] { ExpandingArray<2>{1, 2, 3}; }, "expected 2 values");
  EXPECT_EQ(ConvPadding<2>("same").repr(), "same");
  EXPECT_EQ(ConvPadding<2>("valid").repr(), "valid");
  EXPECT_EQ(ConvPadding<2>({1, 2}).repr(), "(1, 2)");
  expect_error<ValueError>([] { ConvPadding<2>("full"); }, "\"same\" or \"valid\"");
  EXPECT_EQ(detail::python_float(1e-5), "1e-05");
  EXPECT_EQ(detail::python_float(0.1), "0.1");
  EXPECT_EQ(detail::python_float(3.0), "3.0");
}

// ---- Conv2d / Conv1d / ConvTranspose2d ---------------------------------------------------------------------

TEST(Conv2d, ParameterNamesLayoutAndInitialisationBounds) {
  manual_seed(0);
  Conv2d conv({.in_channels = 3, .out_channels = 8, .kernel_size = 3, .groups = 1});
  EXPECT_EQ(names(conv.named_parameters()), (Names{"weight", "bias"}));
  EXPECT_EQ(conv.weight.shape(), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(conv.bias.shape(), (Shape{8}));
  // kaiming_uniform_(a = sqrt(5)) has bound 1/sqrt(fan_in), fan_in = 3 * 3 * 3 = 27; so has the bias.
  const double bound = 1.0 / std::sqrt(27.0);
  EXPECT_LE(max_abs(conv.weight), bound);
  EXPECT_GT(max_abs(conv.weight), 0.9 * bound);
  EXPECT_LE(max_abs(conv.bias), bound);
  Conv2d grouped({.in_channels = 4, .out_channels = 6, .kernel_size = {3, 5}, .groups = 2, .bias = false});
  EXPECT_EQ(grouped.weight.shape(), (Shape{6, 2, 3, 5}));
  EXPECT_FALSE(grouped.bias.defined());
  EXPECT_EQ(names(grouped.named_parameters()), (Names{"weight"}));
  EXPECT_EQ(Conv1d(2, 4, 5).weight.shape(), (Shape{4, 2, 5}));
}

TEST(Conv2d, PrintsLikePyTorch) {
  EXPECT_EQ(Conv2d({.in_channels = 1, .out_channels = 32, .kernel_size = 3, .padding = 1}).extra_repr(),
            "1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)");
  EXPECT_EQ(Conv2d(3, 8, 3).extra_repr(), "3, 8, kernel_size=(3, 3), stride=(1, 1)");
  EXPECT_EQ(Conv2d({.in_channels = 4,
                    .out_channels = 4,
                    .kernel_size = {1, 3},
                    .stride = 2,
                    .dilation = 2,
                    .groups = 4,
                    .bias = false})
                .extra_repr(),
            "4, 4, kernel_size=(1, 3), stride=(2, 2), dilation=(2, 2), groups=4, bias=false");
  EXPECT_EQ(Conv2d({.in_channels = 1, .out_channels = 2, .kernel_size = 4, .padding = "same"}).to_string(),
            "Conv2d(1, 2, kernel_size=(4, 4), stride=(1, 1), padding=same)");
  EXPECT_EQ(Conv1d({.in_channels = 2, .out_channels = 3, .kernel_size = 3, .padding = "valid"}).extra_repr(),
            "2, 3, kernel_size=(3,), stride=(1,), padding=valid");
  EXPECT_EQ(
      ConvTranspose2d(
          {.in_channels = 16, .out_channels = 33, .kernel_size = 3, .stride = 2, .padding = 1, .output_padding = 1})
          .extra_repr(),
      "16, 33, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1)");
}

TEST(Conv2d, OutputShapesOverOptions) {
  const Tensor x = randn({2, 4, 9, 8});
  struct Case {
    Conv2dOptions options;
    Shape expected;
  };
  const std::vector<Case> cases = {
      {{.in_channels = 4, .out_channels = 6, .kernel_size = 3}, {2, 6, 7, 6}},
      {{.in_channels = 4, .out_channels = 6, .kernel_size = 3, .padding = 1}, {2, 6, 9, 8}},
      {{.in_channels = 4, .out_channels = 6, .kernel_size = 3, .stride = 2, .padding = 1}, {2, 6, 5, 4}},
      {{.in_channels = 4, .out_channels = 6, .kernel_size = {3, 1}, .stride = {1, 2}}, {2, 6, 7, 4}},
      {{.in_channels = 4, .out_channels = 6, .kernel_size = 3, .dilation = 2}, {2, 6, 5, 4}},
      {{.in_channels = 4, .out_channels = 6, .kernel_size = 3, .padding = {2, 0}, .dilation = {2, 1}}, {2, 6, 9, 6}},
      {{.in_channels = 4, .out_channels = 8, .kernel_size = 1, .groups = 4}, {2, 8, 9, 8}},
      {{.in_channels = 4, .out_channels = 2, .kernel_size = 2, .groups = 2, .bias = false}, {2, 2, 8, 7}},
      {{.in_channels = 4, .out_channels = 6, .kernel_size = 3, .padding = "valid"}, {2, 6, 7, 6}},
      {{.in_channels = 4, .out_channels = 6, .kernel_size = 3, .padding = "same"}, {2, 6, 9, 8}},
      {{.in_channels = 4, .out_channels = 6, .kernel_size = 4, .padding = "same"}, {2, 6, 9, 8}},
      {{.in_channels = 4, .out_channels = 6, .kernel_size = {2, 5}, .padding = "same", .dilation = {3, 1}},
       {2, 6, 9, 8}},
  };
  for (const Case& c : cases) {
    Conv2d conv(c.options);
    EXPECT_EQ(conv(x).shape(), c.expected) << conv.extra_repr();
  }
  // Unbatched [C, H, W] in, [C', H', W'] out.
  Conv2d conv(4, 3, 3);
  EXPECT_EQ(conv(randn({4, 5, 5})).shape(), (Shape{3, 3, 3}));
}

TEST(Conv2d, ValuesAreWindowSums) {
  // All-ones 2x2 kernel and bias 0.5 over [[0, 1, 2], [3, 4, 5], [6, 7, 8]]: window sums + 0.5.
  Conv2d conv(1, 1, 2);
  {
    NoGradGuard no_grad;
    conv.weight.fill_(1.0);
    conv.bias.fill_(0.5);
  }
  const Tensor x = arange(9.0, {.dtype = kFloat32}).reshape({1, 1, 3, 3});
  expect_near(conv(x), {8.5, 12.5, 20.5, 24.5});
}

TEST(Conv2d, SamePaddingWithAnEvenKernelPadsTheExtraAtTheEnd) {
  // kernel 4: total padding 3 = 1 before + 2 after, in each dim (PyTorch's choice).
  manual_seed(3);
  Conv2d same({.in_channels = 2, .out_channels = 3, .kernel_size = 4, .padding = "same"});
  const Tensor x = randn({1, 2, 5, 6});
  const Tensor want = F::conv2d(pad(x, {1, 2, 1, 2}), same.weight, same.bias);
  const Tensor got = same(x);
  EXPECT_EQ(got.shape(), (Shape{1, 3, 5, 6}));
  expect_near(got, want.to_vector<double>());
  // Dilation 2 with kernel 2 has total 2: symmetric, 1 on each side.
  const Tensor w = randn({3, 2, 2, 2});
  expect_near(F::conv2d(x, w, {}, {.padding = "same", .dilation = 2}),
              F::conv2d(x, w, {}, {.padding = 1, .dilation = 2}).to_vector<double>());
  expect_error<ValueError>(
      [] { Conv2d({.in_channels = 1, .out_channels = 1, .kernel_size = 3, .stride = 2, .padding = "same"}); },
      "not supported for strided convolutions");
  expect_error<ValueError>([&] { F::conv2d(x, w, {}, {.stride = 2, .padding = "same"}); }, "conv2d: padding=\"same\"");
}

TEST(Conv1d, ShapesSameAndUnbatched) {
  manual_seed(4);
  Conv1d conv({.in_channels = 3, .out_channels = 5, .kernel_size = 4, .padding = "same"});
  const Tensor x = randn({2, 3, 10});
  EXPECT_EQ(conv(x).shape(), (Shape{2, 5, 10}));
  expect_near(conv(x), F::conv1d(pad(x, {1, 2}), conv.weight, conv.bias).to_vector<double>());
  EXPECT_EQ(conv(randn({3, 7})).shape(), (Shape{5, 7}));
  Conv1d strided({.in_channels = 3, .out_channels = 2, .kernel_size = 3, .stride = 2, .padding = 1, .dilation = 1});
  EXPECT_EQ(strided(x).shape(), (Shape{2, 2, 5}));
  expect_error<ShapeError>([&] { conv(randn({1, 1, 3, 10})); }, "conv1d: expected a 2-d (unbatched) or 3-d");
}

TEST(ConvTranspose2d, LayoutAndOutputShapes) {
  ConvTranspose2d up({.in_channels = 4, .out_channels = 6, .kernel_size = 3, .groups = 2});
  EXPECT_EQ(up.weight.shape(), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(up.bias.shape(), (Shape{6}));
  // fan_in for the bound is weight.size(1) * kH * kW = 27, as in PyTorch.
  EXPECT_LE(max_abs(up.bias), 1.0 / std::sqrt(27.0));
  const Tensor x = randn({2, 4, 5, 6});
  EXPECT_EQ(up(x).shape(), (Shape{2, 6, 7, 8}));
  // (H - 1) * 2 - 2 + (3 - 1) + 1 + 1 = 2 H
  ConvTranspose2d doubling(
      {.in_channels = 4, .out_channels = 2, .kernel_size = 3, .stride = 2, .padding = 1, .output_padding = 1});
  EXPECT_EQ(doubling(x).shape(), (Shape{2, 2, 10, 12}));
  ConvTranspose2d dilated({.in_channels = 4, .out_channels = 1, .kernel_size = 2, .bias = false, .dilation = 3});
  EXPECT_EQ(dilated(x).shape(), (Shape{2, 1, 8, 9}));
  EXPECT_EQ(doubling(randn({4, 3, 3})).shape(), (Shape{2, 6, 6}));
  expect_error<ValueError>(
      [] { ConvTranspose2d({.in_channels = 1, .out_channels = 1, .kernel_size = 3, .output_padding = 1}); },
      "output_padding");
}

TEST(ConvLayers, ConstructorErrorsNameTheProblem) {
  expect_error<ValueError>([] { Conv2d({.in_channels = 3, .out_channels = 4, .kernel_size = 3, .groups = 2}); },
                           "in_channels=3 must be divisible by groups=2");
  expect_error<ValueError>([] { Conv2d({.in_channels = 2, .out_channels = 3, .kernel_size = 3, .groups = 2}); },
                           "out_channels=3 must be divisible by groups=2");
  expect_error<ValueError>([] { Conv2d({.in_channels = 2, .out_channels = 3}); }, "kernel_size is required");
  expect_error<ValueError>([] { Conv2d(0, 3, 3); }, "in_channels must be positive");
  expect_error<ValueError>([] { Conv2d({.in_channels = 1, .out_channels = 1, .kernel_size = 3, .padding = -1}); },
                           "padding must be non-negative");
  Conv2d conv(3, 4, 3);
  expect_error<ShapeError>([&] { conv(zeros({2, 3, 4})); }, "conv2d");  // C = 2 channels != 3 (unbatched)
  expect_error<ShapeError>([&] { conv(zeros({3, 5})); }, "conv2d: expected a 3-d (unbatched) or 4-d (batched)");
}

// ---- pooling and upsampling ----------------------------------------------------------------------------------

TEST(Pooling, ShapesValuesAndPrinting) {
  const Tensor x = arange(16.0, {.dtype = kFloat32}).reshape({1, 1, 4, 4});
  MaxPool2d max2(2);
  expect_near(max2(x), {5, 7, 13, 15});
  EXPECT_EQ(max2.extra_repr(), "kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false");
  AvgPool2d avg2(2);
  expect_near(avg2(x), {2.5, 4.5, 10.5, 12.5});
  EXPECT_EQ(avg2.extra_repr(), "kernel_size=2, stride=2, padding=0");
  MaxPool2d overlapping({.kernel_size = 3, .stride = 2, .padding = 1});
  EXPECT_EQ(overlapping(randn({2, 3, 7, 8})).shape(), (Shape{2, 3, 4, 4}));
  EXPECT_EQ(overlapping.extra_repr(), "kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=false");
  MaxPool2d ceil({.kernel_size = {2, 2}, .ceil_mode = true});
  EXPECT_EQ(ceil(randn({1, 1, 5, 5})).shape(), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(ceil.extra_repr(), "kernel_size=(2, 2), stride=(2, 2), padding=0, dilation=1, ceil_mode=true");
  EXPECT_EQ(MaxPool2d(2)(randn({3, 6, 6})).shape(), (Shape{3, 3, 3}));  // unbatched

  MaxPool1d max1(3);
  const Tensor seq = tensor(std::vector<float>{1, 5, 2, 8, 3, 0}, {1, 1, 6});
  expect_near(max1(seq), {5, 8});
  EXPECT_EQ(max1.extra_repr(), "kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=false");
  AvgPool1d avg1({.kernel_size = 2, .stride = 1});
  expect_near(avg1(seq), {3, 3.5, 5, 5.5, 1.5});
  EXPECT_EQ(avg1.extra_repr(), "kernel_size=(2,), stride=(1,), padding=(0,)");

  AdaptiveAvgPool2d gap(1);
  expect_near(gap(x), {7.5});
  EXPECT_EQ(gap(randn({2, 5, 7, 3})).shape(), (Shape{2, 5, 1, 1}));
  EXPECT_EQ(gap.extra_repr(), "output_size=1");
  AdaptiveMaxPool2d amp({2, 1});
  expect_near(amp(x), {7, 15});
  EXPECT_EQ(amp.extra_repr(), "output_size=(2, 1)");
  EXPECT_EQ(AdaptiveAvgPool2d({3, 2})(randn({2, 5, 7, 5})).shape(), (Shape{2, 5, 3, 2}));

  expect_error<ValueError>([] { MaxPool2d(0); }, "kernel_size must be positive");
  expect_error<ValueError>([] { AdaptiveAvgPool2d(0); }, "output_size must be positive");
  expect_error<ShapeError>([&] { max2(zeros({4})); }, "max_pool2d: expected a 3-d (unbatched) or 4-d");
}

TEST(Upsample, ShapesModesAndPrinting) {
  const Tensor x = tensor(std::vector<float>{1, 2, 3, 4}, {1, 1, 2, 2});
  Upsample nearest({.scale_factor = 2.0});
  expect_near(nearest(x), {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  EXPECT_EQ(nearest.extra_repr(), "scale_factor=2.0, mode='nearest'");
  Upsample sized({.size = {3, 5}, .mode = UpsampleMode::Bilinear, .align_corners = true});
  EXPECT_EQ(sized(randn({2, 3, 4, 4})).shape(), (Shape{2, 3, 3, 5}));
  EXPECT_EQ(sized.extra_repr(), "size=(3, 5), mode='bilinear'");
  // align_corners: the corners keep their values, the middle interpolates.
  Upsample corners({.size = 3, .mode = UpsampleMode::Bilinear, .align_corners = true});
  expect_near(corners(x), {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
  EXPECT_EQ(Upsample({.scale_factor = {2.0, 1.5}})(randn({1, 1, 2, 2})).shape(), (Shape{1, 1, 4, 3}));
  EXPECT_EQ(F::interpolate(x, {.size = 4}).shape(), (Shape{1, 1, 4, 4}));
  expect_error<ValueError>([] { Upsample({.size = 2, .scale_factor = 2.0}); }, "only one of size or scale_factor");
  expect_error<ValueError>([] { Upsample(Upsample::Options{}); }, "either size or scale_factor");
  expect_error<ValueError>([] { Upsample({.scale_factor = 2.0, .align_corners = false}); }, "align_corners");
  expect_error<ShapeError>([&] { nearest(zeros({1, 2, 2})); }, "interpolate: expected a 4-d");
}

// ---- gradients and a whole model -----------------------------------------------------------------------------

TEST(ConvLayerGradients, ThroughEveryLayer) {
  manual_seed(6);
  Conv2d conv({.in_channels = 2, .out_channels = 3, .kernel_size = 2, .padding = "same"});
  check_layer(conv, {2, 2, 3, 3});
  Conv1d conv1({.in_channels = 2, .out_channels = 2, .kernel_size = 3, .stride = 2, .padding = 1});
  check_layer(conv1, {1, 2, 5});
  ConvTranspose2d up({.in_channels = 2, .out_channels = 2, .kernel_size = 2, .stride = 2});
  check_layer(up, {1, 2, 2, 2});
  AvgPool2d avg(2);
  check_layer(avg, {1, 2, 4, 4});
  AdaptiveAvgPool2d gap(1);
  check_layer(gap, {2, 2, 3, 3});
  Upsample bilinear({.scale_factor = 2.0, .mode = UpsampleMode::Bilinear});
  check_layer(bilinear, {1, 1, 2, 3});
}

struct SmallCnn : Module {
  SmallCnn() {
    features = register_module(
        "features", Sequential({Conv2d({.in_channels = 1, .out_channels = 4, .kernel_size = 3, .padding = 1}),
                                BatchNorm2d(4), ReLU(), MaxPool2d(2), Dropout2d(0.25)}));
    head = register_module("head", Sequential({Flatten(), Linear(4 * 4 * 4, 10)}));
  }
  Tensor forward(const Tensor& x) override { return head(features(x)); }
  Sequential features, head;
};

TEST(ConvLayers, SummaryOfASmallCnnListsLayersAndParameterCounts) {
  SmallCnn net;
  EXPECT_EQ(net(randn({2, 1, 8, 8})).shape(), (Shape{2, 10}));
  const std::string s = net.summary({2, 1, 8, 8});
  EXPECT_NE(s.find("features.0 (Conv2d)"), std::string::npos) << s;
  EXPECT_NE(s.find("features.1 (BatchNorm2d)"), std::string::npos) << s;
  EXPECT_NE(s.find("features.3 (MaxPool2d)"), std::string::npos) << s;
  EXPECT_NE(s.find("features.4 (Dropout2d)"), std::string::npos) << s;
  EXPECT_NE(s.find("[2, 4, 8, 8]"), std::string::npos) << s;
  EXPECT_NE(s.find("[2, 4, 4, 4]"), std::string::npos) << s;
  // conv 4*1*3*3 + 4 = 40, batch norm 4 + 4 = 8, linear 64*10 + 10 = 650.
  EXPECT_NE(s.find("Total params: 698"), std::string::npos) << s;
  EXPECT_NE(s.find(" 40\n"), std::string::npos) << s;
  EXPECT_NE(s.find(" 650\n"), std::string::npos) << s;
  EXPECT_EQ(names(net.named_buffers()),
            (Names{"features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked"}));
  EXPECT_NE(net.to_string().find("(0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"),
            std::string::npos)
      << net.to_string();
}

}  // namespace
}  // namespace xgrad::nn
