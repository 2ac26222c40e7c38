// Convolutions and padding: gradient-table rows for every stride / padding / dilation / groups
// combination (conv1d too, transposed with output_padding, the weight gradient as an op), hand-worked
// forward values, the three ops as each other's gradients, and every argument error.
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/grad_cases.hpp"

namespace xgrad {
namespace {

using testing::expect_error;
using testing::expect_near;
using testing::Inputs;

Conv2dParams params(std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                    std::array<int64_t, 2> dilation = {1, 1}, int64_t groups = 1,
                    std::array<int64_t, 2> output_padding = {0, 0}) {
  return {
      .stride = stride, .padding = padding, .dilation = dilation, .groups = groups, .output_padding = output_padding};
}

// ---- gradient table -----------------------------------------------------------------------------------

XGRAD_GRAD_CASE(conv2d_bias, "conv2d", {{2, 3, 5, 5}, {4, 3, 3, 3}, {4}},
                [](const Inputs& x) { return conv2d(x[0], x[1], x[2]); });
XGRAD_GRAD_CASE(conv2d_stride_padding, "conv2d", {{1, 2, 6, 5}, {3, 2, 3, 2}, {3}}, [](const Inputs& x) {
  return conv2d(x[0], x[1], x[2], params({2, 1}, {1, 2}));
});
XGRAD_GRAD_CASE(conv2d_dilation_no_bias, "conv2d", {{1, 2, 7, 6}, {2, 2, 3, 2}}, [](const Inputs& x) {
  return conv2d(x[0], x[1], {}, params({1, 2}, {2, 1}, {2, 3}));
});
XGRAD_GRAD_CASE(conv2d_groups2, "conv2d", {{2, 4, 5, 5}, {6, 2, 3, 3}, {6}}, [](const Inputs& x) {
  return conv2d(x[0], x[1], x[2], params({1, 1}, {1, 1}, {1, 1}, 2));
});
XGRAD_GRAD_CASE(conv2d_depthwise, "conv2d", {{1, 3, 5, 5}, {3, 1, 3, 3}}, [](const Inputs& x) {
  return conv2d(x[0], x[1], {}, params({1, 1}, {1, 1}, {1, 1}, 3));
});
XGRAD_GRAD_CASE(conv2d_depthwise_multiplier_strided, "conv2d", {{1, 2, 5, 5}, {4, 1, 2, 2}, {4}}, [](const Inputs& x) {
  return conv2d(x[0], x[1], x[2], params({2, 2}, {0, 0}, {1, 1}, 2));
});
XGRAD_GRAD_CASE(conv2d_pointwise, "conv2d", {{2, 3, 3, 4}, {5, 3, 1, 1}, {5}},
                [](const Inputs& x) { return conv2d(x[0], x[1], x[2]); });
// (7 + 0 - 3) / 3 leaves a remainder: the input gradient needs an output_padding to reach 7.
XGRAD_GRAD_CASE(conv2d_stride_remainder, "conv2d", {{1, 1, 7, 6}, {2, 1, 3, 3}}, [](const Inputs& x) {
  return conv2d(x[0], x[1], {}, params({3, 2}, {0, 0}));
});
XGRAD_GRAD_CASE(conv2d_chain_with_relu, "conv2d", {{1, 2, 5, 5}, {3, 2, 3, 3}, {2, 3, 3, 3}}, [](const Inputs& x) {
  return conv2d(tanh(conv2d(x[0], x[1], {}, params({1, 1}, {1, 1}))), x[2], {}, params({2, 2}, {1, 1}));
});
// Stride 1 on planes wide enough for the direct (im2col-free) kernels, in all three directions (1x3
// kernels keep the case small: the kernels need 8+ channels on both sides).
XGRAD_GRAD_CASE(conv2d_direct, "conv2d", {{2, 8, 2, 14}, {16, 8, 1, 3}, {16}}, [](const Inputs& x) {
  return conv2d(x[0], x[1], x[2], params({1, 1}, {0, 1}));
});
XGRAD_GRAD_CASE(conv1d_stride_padding_dilation, "conv2d", {{2, 3, 9}, {4, 3, 3}, {4}}, [](const Inputs& x) {
  return conv1d(x[0], x[1], x[2], params({1, 2}, {0, 1}, {1, 2}));
});
XGRAD_GRAD_CASE(conv1d_groups, "conv2d", {{1, 4, 6}, {2, 2, 2}}, [](const Inputs& x) {
  return conv1d(x[0], x[1], {}, params({1, 1}, {0, 0}, {1, 1}, 2));
});

XGRAD_GRAD_CASE(conv_transpose2d_bias, "conv_transpose2d", {{2, 3, 3, 4}, {3, 2, 3, 3}, {2}},
                [](const Inputs& x) { return conv_transpose2d(x[0], x[1], x[2]); });
XGRAD_GRAD_CASE(conv_transpose2d_stride_output_padding, "conv_transpose2d", {{1, 2, 3, 3}, {2, 3, 3, 3}, {3}},
                [](const Inputs& x) {
                  return conv_transpose2d(x[0], x[1], x[2], params({2, 2}, {1, 1}, {1, 1}, 1, {1, 0}));
                });
XGRAD_GRAD_CASE(conv_transpose2d_groups_dilation, "conv_transpose2d", {{1, 4, 3, 3}, {4, 1, 2, 2}},
                [](const Inputs& x) {
                  return conv_transpose2d(x[0], x[1], {}, params({1, 2}, {0, 1}, {2, 1}, 2));
                });
// output_padding 1 >= stride 1 is allowed because dilation is 2: the output has an extra row.
XGRAD_GRAD_CASE(conv_transpose2d_output_padding_below_dilation, "conv_transpose2d", {{1, 2, 3, 3}, {2, 2, 2, 2}},
                [](const Inputs& x) {
                  return conv_transpose2d(x[0], x[1], {}, params({1, 1}, {0, 0}, {2, 2}, 1, {1, 1}));
                });
XGRAD_GRAD_CASE(conv_transpose2d_direct, "conv_transpose2d", {{2, 16, 2, 14}, {16, 8, 1, 3}}, [](const Inputs& x) {
  return conv_transpose2d(x[0], x[1], {}, params({1, 1}, {0, 1}));
});
XGRAD_GRAD_CASE(conv_transpose2d_pointwise, "conv_transpose2d", {{2, 3, 3, 3}, {3, 2, 1, 1}},
                [](const Inputs& x) { return conv_transpose2d(x[0], x[1]); });

XGRAD_GRAD_CASE(conv2d_weight_plain, "conv2d_weight", {{2, 3, 5, 5}, {2, 4, 3, 3}}, [](const Inputs& x) {
  return conv2d_weight(x[0], x[1], {3, 3}, {});
});
XGRAD_GRAD_CASE(conv2d_weight_strided_groups, "conv2d_weight", {{1, 4, 5, 5}, {1, 2, 3, 3}}, [](const Inputs& x) {
  return conv2d_weight(x[0], x[1], {3, 3}, params({2, 2}, {1, 1}, {1, 1}, 2));
});
XGRAD_GRAD_CASE(conv2d_weight_direct, "conv2d_weight", {{2, 8, 2, 14}, {2, 16, 2, 14}}, [](const Inputs& x) {
  return conv2d_weight(x[0], x[1], {1, 3}, params({1, 1}, {0, 1}));
});
XGRAD_GRAD_CASE(conv2d_weight_cropped_output, "conv2d_weight", {{1, 2, 6, 6}, {1, 3, 2, 2}}, [](const Inputs& x) {
  return conv2d_weight(x[0], x[1], {2, 2}, params({2, 2}, {0, 0}, {2, 1}));
});

XGRAD_GRAD_CASE(pad_both_sides, "pad", {{2, 3, 4}}, [](const Inputs& x) { return pad(x[0], {1, 2, 0, 1}); });
XGRAD_GRAD_CASE(pad_and_crop, "pad", {{2, 3, 4}}, [](const Inputs& x) { return pad(x[0], {-1, 2, 1, -2}, 0.5); });
XGRAD_GRAD_CASE(pad_three_dims, "pad", {{2, 2, 3}}, [](const Inputs& x) { return pad(x[0], {0, 1, 1, 0, 1, 1}); });

// ---- forward values ---------------------------------------------------------------------------------------

Tensor x3x3() { return tensor(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}); }
Tensor w2x2() { return tensor(std::vector<double>{1, 2, 3, 4}, {1, 1, 2, 2}); }

TEST(Conv2d, HandWorkedValues) {
  // y[i, j] = x[i, j] + 2 x[i, j + 1] + 3 x[i + 1, j] + 4 x[i + 1, j + 1] (+ bias)
  const Tensor y = conv2d(x3x3(), w2x2(), tensor({1.0}));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  expect_near(y, {38, 48, 68, 78});
  expect_near(conv2d(x3x3(), w2x2(), {}, params({2, 2}, {1, 1})), {4, 18, 36, 77});
  expect_near(conv2d(x3x3(), w2x2(), {}, params({1, 1}, {0, 0}, {2, 2})), {64});
  // conv1d: [1, 2, 3, 4] with [1, -1], stride 2, padding 1 -> [-1 (0 - 1), 2 - 3, 4 - 0]
  expect_near(conv1d(tensor(std::vector<double>{1, 2, 3, 4}, {1, 1, 4}), tensor(std::vector<double>{1, -1}, {1, 1, 2}),
                     {}, params({1, 2}, {0, 1})),
              {-1, -1, 4});
}

TEST(Conv2d, GroupsAndDepthwise) {
  const Tensor x = tensor(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
  const Tensor w = tensor(std::vector<double>{2, 3}, {2, 1, 1, 1});
  expect_near(conv2d(x, w, tensor({0.5, -1.0}), params({1, 1}, {0, 0}, {1, 1}, 2)),
              {2.5, 4.5, 6.5, 8.5, 14, 17, 20, 23});
  // groups 1 with the same channels mixes them: 2 x0 + 3 x1 ... one output channel
  expect_near(conv2d(x, tensor(std::vector<double>{2, 3}, {1, 2, 1, 1})), {17, 22, 27, 32});
}

TEST(ConvTranspose2d, HandWorkedValues) {
  const Tensor x = tensor(std::vector<double>{1, 2, 3, 4}, {1, 1, 2, 2});
  const Tensor ones = full({1, 1, 2, 2}, 1.0, {.dtype = kFloat64});
  expect_near(conv_transpose2d(x, ones), {1, 3, 2, 4, 10, 6, 3, 7, 4});
  const Tensor s2 = conv_transpose2d(x, ones, {}, params({2, 2}, {0, 0}, {1, 1}, 1, {1, 1}));
  EXPECT_EQ(s2.shape(), (Shape{1, 1, 5, 5}));
  expect_near(s2, {1, 1, 2, 2, 0, 1, 1, 2, 2, 0, 3, 3, 4, 4, 0, 3, 3, 4, 4, 0, 0, 0, 0, 0, 0});
  // padding crops the same result from both sides
  expect_near(conv_transpose2d(x, ones, tensor({1.0}), params({2, 2}, {1, 1})), {2, 3, 4, 5});
  // weight [C_in, C_out / groups, kH, kW]: one input channel to two output channels
  const Tensor w = tensor(std::vector<double>{1, 2}, {1, 2, 1, 1});
  expect_near(conv_transpose2d(x, w), {1, 2, 3, 4, 2, 4, 6, 8});
}

TEST(Conv2d, TheThreeOpsAreEachOthersGradients) {
  Generator gen(5);
  const Conv2dParams p = params({2, 2}, {1, 1});
  const Tensor x = randn({2, 3, 7, 7}, gen, {.dtype = kFloat64}).requires_grad_();
  const Tensor w = randn({4, 3, 3, 3}, gen, {.dtype = kFloat64}).requires_grad_();
  const Tensor y = conv2d(x, w, {}, p);
  const Tensor dy = randn(y.shape(), gen, {.dtype = kFloat64});
  const std::vector<Tensor> g = grad({y}, {x, w}, {dy});
  // 7 = (4 - 1) 2 - 2 + 3: no output_padding needed
  expect_near(g[0], conv_transpose2d(dy, w.detach(), {}, p).to_vector<double>(), 1e-12);
  expect_near(g[1], conv2d_weight(x.detach(), dy, {3, 3}, p).to_vector<double>(), 1e-12);
  EXPECT_EQ(y.grad_fn()->name(), "conv2d");
  EXPECT_EQ(conv_transpose2d(y, w).grad_fn()->name(), "conv_transpose2d");
  EXPECT_EQ(conv2d_weight(x, y, {3, 3}, p).grad_fn()->name(), "conv2d_weight");
}

TEST(Conv2d, FloatAndDoubleAgree) {
  Generator gen(6);
  const Tensor x = randn({2, 4, 6, 6}, gen);
  const Tensor w = randn({6, 2, 3, 3}, gen);
  const Tensor b = randn({6}, gen);
  const Conv2dParams p = params({1, 2}, {1, 0}, {2, 1}, 2);
  const Tensor y32 = conv2d(x, w, b, p);
  const Tensor y64 = conv2d(x.to(kFloat64), w.to(kFloat64), b.to(kFloat64), p);
  EXPECT_EQ(y32.dtype(), kFloat32);
  expect_near(y32, y64.to_vector<double>(), 1e-4);
}

TEST(Conv2d, GradientsOnlyWhereNeeded) {
  Generator gen(7);
  const Tensor x = randn({1, 2, 4, 4}, gen);  // an input, like the first layer's images
  const Tensor w = randn({3, 2, 3, 3}, gen).requires_grad_();
  const Tensor b = zeros({3}).requires_grad_();
  conv2d(x, w, b, params({1, 1}, {1, 1})).sum().backward();
  EXPECT_FALSE(x.grad().defined());
  EXPECT_EQ(w.grad().shape(), w.shape());
  expect_near(b.grad(), {16, 16, 16});  // every output position once
}

TEST(Pad, ValuesAndGradient) {
  const Tensor x = testing::leaf({1, 2, 3, 4}, {2, 2});
  const Tensor y = pad(x, {1, 0, 0, 1}, 9);
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  expect_near(y, {9, 1, 2, 9, 3, 4, 9, 9, 9});
  (y * arange(9.0, {.dtype = kFloat64}).reshape({3, 3})).sum().backward();
  expect_near(x.grad(), {1, 2, 4, 5});
  expect_near(pad(x, {-1, 0}), {2, 4});
}

// ---- errors -------------------------------------------------------------------------------------------------

TEST(Conv2d, Errors) {
  const Tensor x = zeros({2, 3, 5, 5});
  expect_error<ShapeError>(
      [&] {
        conv2d(x, zeros({4, 2, 3, 3}));
      },
      {"conv2d: input [2, 3, 5, 5] has 3 channels but weight [4, 2, 3, 3] expects 2 (groups 1)"});
  expect_error<ShapeError>(
      [&] {
        conv2d(x, zeros({4, 2, 3, 3}), {}, params({1, 1}, {0, 0}, {1, 1}, 2));
      },
      {"expects 4 (groups 2)"});
  expect_error<ValueError>(
      [&] {
        conv2d(zeros({2, 4, 5, 5}), zeros({3, 2, 3, 3}), {}, params({1, 1}, {0, 0}, {1, 1}, 2));
      },
      {"conv2d", "[3, 2, 3, 3]", "groups 2"});
  expect_error<ShapeError>([&] { conv2d(zeros({3, 5, 5}), zeros({4, 3, 3, 3})); }, {"conv2d", "4-d", "[3, 5, 5]"});
  expect_error<ShapeError>([&] { conv2d(x, zeros({4, 3, 3})); }, {"conv2d", "weight", "[4, 3, 3]"});
  expect_error<ShapeError>([&] { conv2d(x, zeros({4, 3, 3, 3}), zeros({3})); }, {"conv2d", "bias", "[3]", "4"});
  expect_error<ShapeError>(
      [&] {
        conv2d(x, zeros({4, 3, 6, 3}));
      },
      {"conv2d", "[2, 3, 5, 5]", "[4, 3, 6, 3]", "output size [0, 3]"});
  expect_error<ShapeError>(
      [&] {
        conv2d(x, zeros({4, 3, 3, 3}), {}, params({1, 1}, {0, 0}, {3, 1}));
      },
      {"conv2d", "dilated"});
  expect_error<ValueError>(
      [&] {
        conv2d(x, zeros({4, 3, 3, 3}), {}, params({0, 1}, {0, 0}));
      },
      {"conv2d", "stride [0, 1]"});
  expect_error<ValueError>([&] { conv2d(x, zeros({4, 3, 3, 3}), {}, params({1, 1}, {-1, 0})); }, {"conv2d", "padding"});
  expect_error<ValueError>(
      [&] {
        conv2d(x, zeros({4, 3, 3, 3}), {}, params({1, 1}, {0, 0}, {0, 1}));
      },
      {"conv2d", "dilation"});
  expect_error<ValueError>(
      [&] {
        conv2d(x, zeros({4, 3, 3, 3}), {}, params({1, 1}, {0, 0}, {1, 1}, 0));
      },
      {"conv2d", "groups"});
  expect_error<DTypeError>(
      [&] {
        conv2d(x, zeros({4, 3, 3, 3}, {.dtype = kFloat64}));
      },
      {"conv2d", "float32", "float64"});
  expect_error<DTypeError>(
      [&] {
        conv2d(x, zeros({4, 3, 3, 3}), zeros({4}, {.dtype = kFloat64}));
      },
      {"conv2d", "bias", "float64"});
  expect_error<DTypeError>(
      [&] {
        conv2d(zeros({1, 1, 3, 3}, {.dtype = kInt64}), zeros({1, 1, 1, 1}, {.dtype = kInt64}));
      },
      {"conv2d", "int64"});
  expect_error<ShapeError>(
      [&] {
        conv1d(zeros({2, 3, 5}), zeros({4, 2, 3}));
      },
      {"conv1d: input [2, 3, 5] has 3 channels but weight [4, 2, 3] expects 2"});
  expect_error<ShapeError>([&] { conv1d(x, zeros({4, 3, 3})); }, {"conv1d", "3-d"});
}

TEST(ConvTranspose2d, Errors) {
  const Tensor x = zeros({1, 2, 3, 3});
  expect_error<ValueError>(
      [&] {
        conv_transpose2d(x, zeros({2, 1, 3, 3}), {}, params({2, 2}, {0, 0}, {1, 1}, 1, {2, 0}));
      },
      {"conv_transpose2d", "output_padding [2, 0]", "stride [2, 2]", "dilation [1, 1]"});
  expect_error<ValueError>(
      [&] {
        conv_transpose2d(x, zeros({2, 1, 3, 3}), {}, params({1, 1}, {0, 0}, {1, 1}, 1, {0, 1}));
      },
      {"conv_transpose2d", "output_padding"});
  expect_error<ShapeError>(
      [&] {
        conv_transpose2d(x, zeros({3, 1, 3, 3}));
      },
      {"conv_transpose2d: input [1, 2, 3, 3] has 2 channels but weight [3, 1, 3, 3] expects 3"});
  expect_error<ValueError>(
      [&] {
        conv_transpose2d(zeros({1, 3, 3, 3}), zeros({3, 1, 3, 3}), {}, params({1, 1}, {0, 0}, {1, 1}, 2));
      },
      {"conv_transpose2d", "groups 2"});
  expect_error<ShapeError>([&] { conv_transpose2d(x, zeros({2, 1, 3, 3}), zeros({2})); }, {"conv_transpose2d", "bias"});
  expect_error<ShapeError>(
      [&] {
        conv_transpose2d(zeros({1, 2, 1, 1}), zeros({2, 1, 1, 1}), {}, params({1, 1}, {1, 1}));
      },
      {"conv_transpose2d", "empty output"});
  expect_error<DTypeError>(
      [&] {
        conv_transpose2d(x, zeros({2, 1, 3, 3}, {.dtype = kFloat64}));
      },
      {"conv_transpose2d", "float32", "float64"});
}

TEST(Conv2dWeight, Errors) {
  const Tensor x = zeros({2, 3, 5, 5});
  expect_error<ShapeError>(
      [&] {
        conv2d_weight(x, zeros({2, 4, 4, 3}), {3, 3}, {});
      },
      {"conv2d_weight", "[2, 4, 4, 3]", "[2, 4, 3, 3]"});
  expect_error<ShapeError>([&] { conv2d_weight(x, zeros({1, 4, 3, 3}), {3, 3}, {}); }, {"conv2d_weight"});
  expect_error<ValueError>(
      [&] {
        conv2d_weight(x, zeros({2, 4, 3, 3}), {0, 3}, {});
      },
      {"conv2d_weight", "kernel_size"});
  expect_error<ValueError>(
      [&] {
        conv2d_weight(x, zeros({2, 4, 3, 3}), {3, 3}, params({1, 1}, {0, 0}, {1, 1}, 2));
      },
      {"conv2d_weight", "groups 2"});
  expect_error<DTypeError>(
      [&] {
        conv2d_weight(x, zeros({2, 4, 3, 3}, {.dtype = kFloat64}), {3, 3}, {});
      },
      {"conv2d_weight", "float64"});
}

TEST(Pad, Errors) {
  expect_error<ValueError>([] { pad(zeros({2, 2}), {1, 1, 1}); }, {"pad", "[1, 1, 1]"});
  expect_error<ShapeError>([] { pad(zeros({2, 2}), {-3, 0}); }, {"pad", "negative"});
}

}  // namespace
}  // namespace xgrad
