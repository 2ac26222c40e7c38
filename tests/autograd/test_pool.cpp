// Pooling and upsampling: gradient-table rows (max / average / adaptive pooling with stride,
// padding, dilation, ceil_mode, count_include_pad; 1-d forms; nearest and bilinear upsampling with
// and without align_corners; the backward ops through gradients of gradients), hand-worked values
// and every argument error.
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/grad_cases.hpp"

namespace xgrad {
namespace {

using testing::expect_error;
using testing::expect_near;
using testing::Inputs;

Pool2dParams pool(std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride = {0, 0},
                  std::array<int64_t, 2> padding = {0, 0}, std::array<int64_t, 2> dilation = {1, 1},
                  bool ceil_mode = false, bool count_include_pad = true) {
  return {.kernel_size = kernel,
          .stride = stride,
          .padding = padding,
          .dilation = dilation,
          .ceil_mode = ceil_mode,
          .count_include_pad = count_include_pad};
}

// The gradient of f at x[0] against the direction x[1], as a differentiable function of both: its
// gradcheck tests the backward op's own backward.
// (Recording stays on even where the checker probes the output shape under no-grad.)
template <typename F> Tensor vjp(F f, const Inputs& x) {
  EnableGradGuard recording;
  return grad({f(x[0])}, {x[0]}, {x[1]}, std::nullopt, /*create_graph=*/true)[0];
}

// ---- gradient table -----------------------------------------------------------------------------------

XGRAD_GRAD_CASE(max_pool2d_2x2, "max_pool2d", {{2, 3, 4, 4}}, [](const Inputs& x) { return max_pool2d(x[0], {}); });
XGRAD_GRAD_CASE(max_pool2d_overlapping_padded, "max_pool2d", {{1, 2, 5, 5}}, [](const Inputs& x) {
  return max_pool2d(x[0], pool({3, 3}, {2, 2}, {1, 1}));
});
XGRAD_GRAD_CASE(max_pool2d_ceil_mode, "max_pool2d", {{1, 2, 5, 5}}, [](const Inputs& x) {
  return max_pool2d(x[0], pool({2, 2}, {2, 2}, {0, 0}, {1, 1}, true));
});
XGRAD_GRAD_CASE(max_pool2d_dilation, "max_pool2d", {{1, 1, 6, 7}}, [](const Inputs& x) {
  return max_pool2d(x[0], pool({2, 3}, {1, 2}, {1, 1}, {2, 2}));
});
XGRAD_GRAD_CASE(max_pool2d_unbatched, "max_pool2d", {{2, 5, 4}}, [](const Inputs& x) {
  return max_pool2d(x[0], pool({3, 2}, {1, 2}));
});
XGRAD_GRAD_CASE(max_pool1d_padded, "max_pool2d", {{2, 3, 7}}, [](const Inputs& x) {
  return max_pool1d(x[0], pool({1, 3}, {1, 2}, {0, 1}));
});
XGRAD_GRAD_CASE(max_pool2d_backward_both_inputs, "max_pool2d_backward", {{1, 2, 4, 4}, {1, 2, 2, 2}},
                [](const Inputs& x) { return vjp([](const Tensor& t) { return max_pool2d(t, {}); }, x); });
XGRAD_GRAD_CASE(max_pool2d_backward_adaptive, "max_pool2d_backward", {{1, 1, 5, 5}, {1, 1, 3, 2}}, [](const Inputs& x) {
  return vjp([](const Tensor& t) { return adaptive_max_pool2d(t, {3, 2}); }, x);
});

XGRAD_GRAD_CASE(avg_pool2d_2x2, "avg_pool2d", {{2, 3, 4, 4}}, [](const Inputs& x) { return avg_pool2d(x[0], {}); });
XGRAD_GRAD_CASE(avg_pool2d_padded_include_pad, "avg_pool2d", {{1, 2, 5, 5}}, [](const Inputs& x) {
  return avg_pool2d(x[0], pool({3, 3}, {2, 2}, {1, 1}));
});
XGRAD_GRAD_CASE(avg_pool2d_padded_exclude_pad, "avg_pool2d", {{1, 2, 5, 6}}, [](const Inputs& x) {
  return avg_pool2d(x[0], pool({3, 2}, {2, 1}, {1, 1}, {1, 1}, false, false));
});
XGRAD_GRAD_CASE(avg_pool2d_ceil_mode, "avg_pool2d", {{1, 1, 5, 7}}, [](const Inputs& x) {
  return avg_pool2d(x[0], pool({2, 3}, {2, 2}, {1, 1}, {1, 1}, true, true));
});
XGRAD_GRAD_CASE(avg_pool1d_ceil, "avg_pool2d", {{2, 2, 7}}, [](const Inputs& x) {
  return avg_pool1d(x[0], pool({1, 2}, {1, 2}, {0, 1}, {1, 1}, true, false));
});
XGRAD_GRAD_CASE(avg_pool2d_backward_both_inputs, "avg_pool2d_backward", {{1, 2, 5, 5}, {1, 2, 3, 3}},
                [](const Inputs& x) {
                  return vjp([](const Tensor& t) { return avg_pool2d(t, pool({3, 3}, {2, 2}, {1, 1})); }, x);
                });

XGRAD_GRAD_CASE(adaptive_avg_pool2d_uneven, "adaptive_avg_pool2d", {{2, 2, 5, 7}}, [](const Inputs& x) {
  return adaptive_avg_pool2d(x[0], {3, 4});
});
XGRAD_GRAD_CASE(adaptive_avg_pool2d_global, "adaptive_avg_pool2d", {{2, 3, 4, 3}}, [](const Inputs& x) {
  return adaptive_avg_pool2d(x[0], {1, 1});
});
XGRAD_GRAD_CASE(adaptive_avg_pool2d_larger_output, "adaptive_avg_pool2d", {{1, 2, 3, 2}}, [](const Inputs& x) {
  return adaptive_avg_pool2d(x[0], {4, 3});
});
XGRAD_GRAD_CASE(adaptive_max_pool2d_uneven, "adaptive_max_pool2d", {{2, 2, 5, 7}}, [](const Inputs& x) {
  return adaptive_max_pool2d(x[0], {3, 4});
});

XGRAD_GRAD_CASE(upsample_nearest_scale2, "upsample_nearest", {{1, 2, 3, 2}}, [](const Inputs& x) {
  return upsample(x[0], std::nullopt, std::array<double, 2>{2.0, 2.0});
});
XGRAD_GRAD_CASE(upsample_nearest_size, "upsample_nearest", {{2, 1, 3, 4}}, [](const Inputs& x) {
  return upsample(x[0], std::array<int64_t, 2>{5, 3}, std::nullopt);
});
XGRAD_GRAD_CASE(
    upsample_nearest_backward_both_inputs, "upsample_nearest_backward", {{1, 1, 2, 3}, {1, 1, 5, 4}},
    [](const Inputs& x) {
      return vjp([](const Tensor& t) { return upsample(t, std::array<int64_t, 2>{5, 4}, std::nullopt); }, x);
    });
XGRAD_GRAD_CASE(upsample_bilinear_half_pixel, "upsample_bilinear", {{1, 2, 3, 3}}, [](const Inputs& x) {
  return upsample(x[0], std::array<int64_t, 2>{5, 7}, std::nullopt, UpsampleMode::Bilinear);
});
XGRAD_GRAD_CASE(upsample_bilinear_align_corners, "upsample_bilinear", {{1, 2, 3, 4}}, [](const Inputs& x) {
  return upsample(x[0], std::nullopt, std::array<double, 2>{2.0, 1.5}, UpsampleMode::Bilinear, true);
});
XGRAD_GRAD_CASE(upsample_bilinear_downsample, "upsample_bilinear", {{1, 1, 6, 5}}, [](const Inputs& x) {
  return upsample(x[0], std::array<int64_t, 2>{4, 2}, std::nullopt, UpsampleMode::Bilinear);
});
XGRAD_GRAD_CASE(upsample_bilinear_backward_both_inputs, "upsample_bilinear_backward", {{1, 1, 3, 3}, {1, 1, 4, 5}},
                [](const Inputs& x) {
                  return vjp(
                      [](const Tensor& t) {
                        return upsample(t, std::array<int64_t, 2>{4, 5}, std::nullopt, UpsampleMode::Bilinear);
                      },
                      x);
                });

// ---- values ---------------------------------------------------------------------------------------------

Tensor t4(const std::vector<double>& v, const Shape& s) { return tensor(v, s); }

TEST(MaxPool2d, ValuesAndGradientToTheArgmax) {
  const Tensor x = t4({1, 9, 2, 3, 4, 5, 8, 6, 0, 1, 2, 3, 7, 4, 5, 9}, {1, 1, 4, 4}).requires_grad_();
  const Tensor y = max_pool2d(x, {});
  expect_near(y, {9, 8, 7, 9});
  EXPECT_EQ(y.grad_fn()->name(), "max_pool2d");
  (y * t4({1, 2, 3, 4}, {1, 1, 2, 2})).sum().backward();
  expect_near(x.grad(), {0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 4});
  // ceil_mode on 5x5 (0..24): the last row and column of windows hold one row / column
  const Tensor y5 =
      max_pool2d(arange(25.0, {.dtype = kFloat64}).reshape({1, 1, 5, 5}), pool({2, 2}, {2, 2}, {0, 0}, {1, 1}, true));
  EXPECT_EQ(y5.shape(), (Shape{1, 1, 3, 3}));
  expect_near(y5, {6, 8, 9, 16, 18, 19, 21, 23, 24});
  // max_pool1d: [3, 1, 4, 1, 5] kernel 2 stride 1
  expect_near(max_pool1d(t4({3, 1, 4, 1, 5}, {1, 1, 5}), pool({1, 2}, {1, 1})), {3, 4, 4, 5});
}

TEST(AvgPool2d, CountIncludePadAndCeilMode) {
  const Tensor x = t4({1, 2, 3, 4}, {1, 1, 2, 2});
  expect_near(avg_pool2d(x, pool({2, 2}, {2, 2}, {1, 1})), {0.25, 0.5, 0.75, 1});
  expect_near(avg_pool2d(x, pool({2, 2}, {2, 2}, {1, 1}, {1, 1}, false, false)), {1, 2, 3, 4});
  const Tensor x5 = arange(25.0, {.dtype = kFloat64}).reshape({1, 5, 5});
  expect_near(avg_pool2d(x5, pool({2, 2}, {2, 2}, {0, 0}, {1, 1}, true)), {3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24});
  expect_near(avg_pool1d(t4({1, 2, 3, 4, 5}, {1, 1, 5}), pool({1, 2})), {1.5, 3.5});
}

TEST(AvgPool2d, GradientSpreadsOverTheWindow) {
  const Tensor x = zeros({1, 1, 3, 3}, {.dtype = kFloat64}).requires_grad_();
  avg_pool2d(x, pool({2, 2}, {1, 1})).sum().backward();
  // each element counted by the windows covering it, each weighing 1/4
  expect_near(x.grad(), {0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25});
}

TEST(AdaptivePool2d, UnevenWindows) {
  // width 5 into 3: windows [0, 2), [1, 4), [3, 5)
  const Tensor x = t4({1, 2, 3, 4, 5}, {1, 1, 1, 5});
  expect_near(adaptive_avg_pool2d(x, {1, 3}), {1.5, 3, 4.5});
  expect_near(adaptive_max_pool2d(x, {1, 3}), {2, 4, 5});
  EXPECT_EQ(adaptive_avg_pool2d(x, {1, 3}).grad_fn(), nullptr);  // no input requires grad
  const Tensor g = arange(12.0, {.dtype = kFloat64}).reshape({1, 3, 4});
  expect_near(adaptive_avg_pool2d(g, {1, 1}), {5.5});
  expect_near(adaptive_max_pool2d(g, {1, 2}), {9, 11});
}

TEST(Upsample, NearestAndBilinear) {
  const Tensor x = t4({1, 2, 3, 4}, {1, 1, 2, 2});
  expect_near(upsample(x, std::nullopt, std::array<double, 2>{2.0, 2.0}),
              {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  expect_near(upsample(x, std::array<int64_t, 2>{3, 3}, std::nullopt), {1, 1, 2, 1, 1, 2, 3, 3, 4});
  expect_near(upsample(x, std::array<int64_t, 2>{3, 3}, std::nullopt, UpsampleMode::Bilinear, true),
              {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
  expect_near(upsample(x, std::nullopt, std::array<double, 2>{2.0, 2.0}, UpsampleMode::Bilinear),
              {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
  // scale 1.5 on 2 gives 3 (floor), sources from 1 / 1.5 rather than 2 / 3: the same here
  EXPECT_EQ(upsample(x, std::nullopt, std::array<double, 2>{1.5, 1.0}).shape(), (Shape{1, 1, 3, 2}));
  const Tensor leaf = t4({1, 2, 3, 4}, {1, 1, 2, 2}).requires_grad_();
  upsample(leaf, std::nullopt, std::array<double, 2>{2.0, 2.0}, UpsampleMode::Bilinear).sum().backward();
  expect_near(leaf.grad(), {4, 4, 4, 4});  // each output's weights sum to one, split evenly by symmetry
}

TEST(PoolAndUpsample, Float32) {
  Generator gen(3);
  const Tensor x = randn({2, 3, 6, 6}, gen);
  const Tensor x64 = x.to(kFloat64);
  expect_near(max_pool2d(x, pool({3, 3}, {2, 2}, {1, 1})),
              max_pool2d(x64, pool({3, 3}, {2, 2}, {1, 1})).to_vector<double>(), 1e-6);
  expect_near(avg_pool2d(x, pool({3, 3}, {2, 2}, {1, 1})),
              avg_pool2d(x64, pool({3, 3}, {2, 2}, {1, 1})).to_vector<double>(), 1e-6);
  expect_near(upsample(x, std::array<int64_t, 2>{9, 4}, std::nullopt, UpsampleMode::Bilinear),
              upsample(x64, std::array<int64_t, 2>{9, 4}, std::nullopt, UpsampleMode::Bilinear).to_vector<double>(),
              1e-5);
  EXPECT_EQ(max_pool2d(x, {}).dtype(), kFloat32);
}

// ---- errors ---------------------------------------------------------------------------------------------

TEST(Pool2d, Errors) {
  const Tensor x = zeros({1, 2, 5, 5});
  expect_error<ValueError>(
      [&] {
        max_pool2d(x, pool({3, 3}, {1, 1}, {2, 2}));
      },
      {"max_pool2d", "padding [2, 2]", "half the kernel size [3, 3]"});
  expect_error<ValueError>([&] { avg_pool2d(x, pool({0, 2})); }, {"avg_pool2d", "kernel_size [0, 2]"});
  expect_error<ValueError>([&] { max_pool2d(x, pool({2, 2}, {-1, 1})); }, {"max_pool2d", "stride"});
  expect_error<ValueError>([&] { max_pool2d(x, pool({2, 2}, {1, 1}, {0, 0}, {0, 1})); }, {"max_pool2d", "dilation"});
  expect_error<ShapeError>([&] { max_pool2d(x, pool({6, 2})); }, {"max_pool2d", "[1, 2, 5, 5]", "too small"});
  expect_error<ShapeError>([&] { max_pool2d(zeros({5, 5}), {}); }, {"max_pool2d", "[5, 5]"});
  expect_error<ShapeError>([&] { avg_pool1d(x, pool({1, 2})); }, {"avg_pool1d", "[1, 2, 5, 5]"});
  expect_error<DTypeError>([&] { max_pool2d(zeros({1, 2, 4, 4}, {.dtype = kInt64}), {}); }, {"max_pool2d", "int64"});
  expect_error<ValueError>([&] { adaptive_avg_pool2d(x, {0, 2}); }, {"adaptive_avg_pool2d", "[0, 2]"});
  expect_error<ShapeError>([&] { adaptive_max_pool2d(zeros({2, 5}), {1, 1}); }, {"adaptive_max_pool2d", "[2, 5]"});
}

TEST(Upsample, Errors) {
  const Tensor x = zeros({1, 1, 2, 2});
  expect_error<ValueError>([&] { upsample(x, std::nullopt, std::nullopt); }, {"upsample", "exactly one"});
  expect_error<ValueError>(
      [&] {
        upsample(x, std::array<int64_t, 2>{2, 2}, std::array<double, 2>{2.0, 2.0});
      },
      {"upsample", "exactly one"});
  expect_error<ValueError>(
      [&] {
        upsample(x, std::array<int64_t, 2>{4, 4}, std::nullopt, UpsampleMode::Nearest, true);
      },
      {"upsample", "align_corners"});
  expect_error<ValueError>(
      [&] {
        upsample(x, std::nullopt, std::array<double, 2>{-1.0, 2.0});
      },
      {"upsample", "scale_factor"});
  expect_error<ShapeError>([&] { upsample(x, std::nullopt, std::array<double, 2>{0.4, 2.0}); }, {"upsample", "[0, 4]"});
  expect_error<ShapeError>([&] { upsample(x, std::array<int64_t, 2>{0, 3}, std::nullopt); }, {"upsample"});
  expect_error<ShapeError>(
      [&] {
        upsample(zeros({2, 2, 2}), std::array<int64_t, 2>{4, 4}, std::nullopt);
      },
      {"upsample", "4-d", "[2, 2, 2]"});
  expect_error<DTypeError>(
      [&] {
        upsample(zeros({1, 1, 2, 2}, {.dtype = kInt64}), std::array<int64_t, 2>{4, 4}, std::nullopt);
      },
      {"upsample", "int64"});
}

}  // namespace
}  // namespace xgrad
