// Convolution, pooling, resampling and padding kernels: hand-worked values, a direct (six-loop)
// convolution as the reference for every stride / padding / dilation / groups combination, the
// adjoint identities <conv(x), dy> = <x, conv^T(dy)> = <w, conv_weight(x, dy)> that make the
// backward kernels right, and PyTorch's window and output-size rules.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "xgrad/tensor/conv_kernels.hpp"
#include "xgrad/tensor/parallel.hpp"

namespace xgrad {
namespace {

using kernels::ConvGeometry;
using testing::expect_values;
using testing::make;
using testing::random_array;
using testing::values;

ConvGeometry geometry(Shape x, Shape w, Shape stride = {1, 1}, Shape pad = {0, 0}, Shape dilation = {1, 1},
                      int64_t groups = 1) {
  ConvGeometry g;
  g.n = x[0];
  g.c_in = x[1];
  g.h = x[2];
  g.w = x[3];
  g.c_out = w[0];
  g.kh = w[2];
  g.kw = w[3];
  g.sh = stride[0];
  g.sw = stride[1];
  g.ph = pad[0];
  g.pw = pad[1];
  g.dh = dilation[0];
  g.dw = dilation[1];
  g.groups = groups;
  g.oh = kernels::conv_output_size(g.h, g.kh, g.sh, g.ph, g.dh);
  g.ow = kernels::conv_output_size(g.w, g.kw, g.sw, g.pw, g.dw);
  return g;
}

// The definition, one multiply-add at a time.
std::vector<double> direct_conv(const Array& x, const Array& w, const ConvGeometry& g) {
  std::vector<double> y(static_cast<size_t>(g.n * g.c_out * g.oh * g.ow), 0.0);
  const int64_t cig = g.c_in / g.groups;
  const int64_t cog = g.c_out / g.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t co = 0; co < g.c_out; ++co)
      for (int64_t i = 0; i < g.oh; ++i)
        for (int64_t j = 0; j < g.ow; ++j) {
          double s = 0;
          for (int64_t c = 0; c < cig; ++c)
            for (int64_t a = 0; a < g.kh; ++a)
              for (int64_t b = 0; b < g.kw; ++b) {
                const int64_t iy = i * g.sh - g.ph + a * g.dh;
                const int64_t ix = j * g.sw - g.pw + b * g.dw;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                s += x.at({n, co / cog * cig + c, iy, ix}) * w.at({co, c, a, b});
              }
          y[static_cast<size_t>(((n * g.c_out + co) * g.oh + i) * g.ow + j)] = s;
        }
  return y;
}

double dot(const Array& a, const Array& b) {
  const std::vector<double> va = values(a);
  const std::vector<double> vb = values(b);
  double s = 0;
  for (size_t i = 0; i < va.size(); ++i) s += va[i] * vb[i];
  return s;
}

TEST(ConvKernels, HandWorkedValues) {
  const Array x = make({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Array w = make({1, 1, 2, 2}, {1, 2, 3, 4});
  // y[i, j] = x[i, j] + 2 x[i, j + 1] + 3 x[i + 1, j] + 4 x[i + 1, j + 1], plus bias 1
  expect_values(kernels::conv2d(x, w, make({1}, {1}), geometry({1, 1, 3, 3}, {1, 1, 2, 2})), {38, 48, 68, 78});
  // padding 1, stride 2: the corners of the padded input; (0, 0) sees only x[0, 0] under w[1, 1]
  expect_values(kernels::conv2d(x, w, {}, geometry({1, 1, 3, 3}, {1, 1, 2, 2}, {2, 2}, {1, 1})), {4, 18, 36, 77});
  // dilation 2: the four corners of x
  expect_values(kernels::conv2d(x, w, {}, geometry({1, 1, 3, 3}, {1, 1, 2, 2}, {1, 1}, {0, 0}, {2, 2})), {64});
}

TEST(ConvKernels, GroupsScaleTheirOwnChannels) {
  const Array x = make({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Array w = make({2, 1, 1, 1}, {2, 3});
  expect_values(kernels::conv2d(x, w, {}, geometry({1, 2, 2, 2}, {2, 1, 1, 1}, {1, 1}, {0, 0}, {1, 1}, 2)),
                {2, 4, 6, 8, 15, 18, 21, 24});
}

TEST(ConvKernels, TransposedConvolutionHandWorked) {
  // conv^T of x [[1, 2], [3, 4]] with a 2x2 kernel of ones: each x spreads over a 2x2 block.
  const Array x = make({1, 1, 2, 2}, {1, 2, 3, 4});
  const Array w = make({1, 1, 2, 2}, {1, 1, 1, 1});
  expect_values(kernels::conv2d_input_grad(x, w, {}, geometry({1, 1, 3, 3}, {1, 1, 2, 2})),
                {1, 3, 2, 4, 10, 6, 3, 7, 4});
  expect_values(kernels::conv2d_input_grad(x, w, make({1}, {0.5}), geometry({1, 1, 4, 4}, {1, 1, 2, 2}, {2, 2})),
                {1.5, 1.5, 2.5, 2.5, 1.5, 1.5, 2.5, 2.5, 3.5, 3.5, 4.5, 4.5, 3.5, 3.5, 4.5, 4.5});
}

struct ConvConfig {
  Shape x, w, stride, pad, dilation;
  int64_t groups;
};

class ConvAgainstDirect : public ::testing::TestWithParam<ConvConfig> {};

TEST_P(ConvAgainstDirect, ForwardAndAdjointsMatch) {
  const ConvConfig& c = GetParam();
  const ConvGeometry g = geometry(c.x, c.w, c.stride, c.pad, c.dilation, c.groups);
  for (DType dtype : {kFloat64, kFloat32}) {
    const double tol = dtype == kFloat64 ? 1e-12 : 1e-5;
    const Array x = random_array(c.x, dtype, 1);
    const Array w = random_array(c.w, dtype, 2);
    const Array y = kernels::conv2d(x, w, {}, g);
    ASSERT_EQ(y.shape(), (Shape{g.n, g.c_out, g.oh, g.ow}));
    expect_values(y, direct_conv(x, w, g), tol);
    // The backward kernels are the adjoints of the forward in x and in w.
    const Array dy = random_array(y.shape(), dtype, 3);
    const Array dx = kernels::conv2d_input_grad(dy, w, {}, g);
    const Array dw = kernels::conv2d_weight_grad(x, dy, g);
    ASSERT_EQ(dx.shape(), x.shape());
    ASSERT_EQ(dw.shape(), w.shape());
    const double ref = dot(y, dy);
    EXPECT_NEAR(dot(x, dx), ref, tol * 10 * std::max(1.0, std::abs(ref)));
    EXPECT_NEAR(dot(w, dw), ref, tol * 10 * std::max(1.0, std::abs(ref)));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ConvAgainstDirect,
    ::testing::Values(ConvConfig{{2, 3, 5, 5}, {4, 3, 3, 3}, {1, 1}, {0, 0}, {1, 1}, 1},
                      ConvConfig{{2, 3, 6, 7}, {4, 3, 3, 2}, {2, 1}, {1, 2}, {1, 1}, 1},
                      ConvConfig{{1, 2, 9, 8}, {3, 2, 3, 3}, {1, 2}, {2, 1}, {2, 3}, 1},
                      ConvConfig{{2, 4, 6, 6}, {6, 2, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 2},
                      ConvConfig{{2, 3, 7, 7}, {3, 1, 3, 3}, {2, 2}, {1, 1}, {1, 1}, 3},    // depthwise
                      ConvConfig{{2, 2, 5, 5}, {4, 1, 2, 2}, {3, 3}, {0, 0}, {2, 1}, 2},    // multiplier 2
                      ConvConfig{{3, 5, 4, 6}, {7, 5, 1, 1}, {1, 1}, {0, 0}, {1, 1}, 1},    // pointwise
                      ConvConfig{{2, 4, 5, 5}, {6, 2, 1, 1}, {2, 2}, {0, 0}, {1, 1}, 2},    // strided 1x1
                      ConvConfig{{1, 1, 28, 28}, {8, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1},  // the CNN's
                      // stride 1 with wide planes: the direct (im2col-free) kernels, with short tiles
                      ConvConfig{{3, 8, 16, 12}, {16, 8, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1},
                      ConvConfig{{3, 5, 16, 12}, {32, 5, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1},
                      ConvConfig{{2, 8, 10, 20}, {24, 8, 5, 3}, {1, 1}, {2, 1}, {1, 1}, 1},
                      ConvConfig{{2, 8, 12, 30}, {8, 8, 2, 3}, {1, 1}, {0, 0}, {1, 1}, 1},
                      ConvConfig{{5, 1, 28, 28}, {32, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1},
                      ConvConfig{{4, 32, 14, 14}, {64, 32, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1},
                      ConvConfig{{2, 1, 4, 4}, {2, 1, 5, 5}, {1, 1}, {2, 2}, {1, 1}, 1}));  // kernel > input

TEST(ConvKernels, ResultsDoNotDependOnTheThreadCount) {
  // The CNN's second layer (direct kernels, samples taken by the workers in turn): bit-identical
  // with 1 and 3 threads, the weight gradient included (fixed groups of samples, added in order).
  const ConvGeometry g = geometry({10, 32, 14, 14}, {64, 32, 3, 3}, {1, 1}, {1, 1});
  const Array x = random_array({10, 32, 14, 14}, kFloat32, 21);
  const Array w = random_array({64, 32, 3, 3}, kFloat32, 22);
  const Array dy = random_array({10, 64, 14, 14}, kFloat32, 23);
  const int threads = get_num_threads();
  std::vector<std::vector<double>> results[2];
  for (int i = 0; i < 2; ++i) {
    set_num_threads(i == 0 ? 1 : 3);
    results[i] = {values(kernels::conv2d(x, w, {}, g)), values(kernels::conv2d_input_grad(dy, w, {}, g)),
                  values(kernels::conv2d_weight_grad(x, dy, g))};
  }
  set_num_threads(threads);
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(results[0][k], results[1][k]) << k;
}

TEST(ConvKernels, CroppedOutputReadsOnlyThePrefix) {
  // oh / ow below the natural size: the first rows and columns of the full output.
  const Array x = random_array({1, 2, 7, 7}, kFloat64, 4);
  const Array w = random_array({3, 2, 3, 3}, kFloat64, 5);
  ConvGeometry g = geometry({1, 2, 7, 7}, {3, 2, 3, 3}, {2, 2}, {1, 1});
  const Array full = kernels::conv2d(x, w, {}, g);
  g.oh = 3;
  g.ow = 2;
  const Array part = kernels::conv2d(x, w, {}, g);
  expect_values(part, values(full.slice(2, 0, 3).slice(3, 0, 2)));
}

TEST(ConvKernels, StridedInputsAreRead) {
  const Array x = random_array({1, 5, 5, 2}, kFloat64, 6).permute({0, 3, 1, 2});  // [1, 2, 5, 5], not contiguous
  const Array w = random_array({3, 2, 2, 2}, kFloat64, 7);
  const ConvGeometry g = geometry({1, 2, 5, 5}, {3, 2, 2, 2});
  expect_values(kernels::conv2d(x, w, {}, g), direct_conv(x, w, g));
}

TEST(ConvKernels, Errors) {
  const ConvGeometry g = geometry({1, 1, 3, 3}, {1, 1, 2, 2});
  const Array x = make({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  testing::expect_error<ShapeError>(
      [&] {
        kernels::conv2d(x, make({1, 1, 1, 2}, {1, 2}), {}, g);
      },
      {"conv2d", "weight", "[1, 1, 1, 2]", "[1, 1, 2, 2]"});
  testing::expect_error<DTypeError>(
      [&] {
        kernels::conv2d(x, make({1, 1, 2, 2}, {1, 2, 3, 4}, kFloat32), {}, g);
      },
      {"conv2d", "float64", "float32"});
  testing::expect_error<DTypeError>(
      [&] {
        kernels::conv2d(x.to(kInt64), make({1, 1, 2, 2}, {1, 2, 3, 4}, kInt64), {}, g);
      },
      {"conv2d", "int64"});
  ConvGeometry big = g;
  big.oh = 3;
  testing::expect_error<ValueError>(
      [&] {
        kernels::conv2d(x, make({1, 1, 2, 2}, {1, 2, 3, 4}), {}, big);
      },
      {"conv2d", "geometry"});
}

// ---- pooling ------------------------------------------------------------------------------------------

TEST(PoolKernels, OutputSizesFollowPyTorch) {
  EXPECT_EQ(kernels::pool_output_size(4, 2, 2, 0, 1, false), 2);
  EXPECT_EQ(kernels::pool_output_size(5, 2, 2, 0, 1, false), 2);
  EXPECT_EQ(kernels::pool_output_size(5, 2, 2, 0, 1, true), 3);
  EXPECT_EQ(kernels::pool_output_size(5, 3, 2, 1, 1, false), 3);
  // ceil_mode: a last window starting in the right padding is dropped
  EXPECT_EQ(kernels::pool_output_size(6, 2, 2, 1, 1, true), 4);
  EXPECT_EQ(kernels::pool_output_size(5, 2, 2, 1, 1, true), 3);
  EXPECT_EQ(kernels::pool_output_size(7, 3, 2, 1, 2, false), 3);
  EXPECT_EQ(kernels::pool_output_size(1, 2, 2, 0, 1, false), 0);
}

TEST(PoolKernels, WindowsClipAndCount) {
  const kernels::PoolWindows w = kernels::sliding_windows(5, 3, 2, 1, 1, false, true);
  EXPECT_EQ(w.begin, (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(w.end, (std::vector<int64_t>{2, 4, 5}));
  EXPECT_EQ(w.divisor, (std::vector<int64_t>{3, 3, 3}));  // padding counts
  const kernels::PoolWindows e = kernels::sliding_windows(5, 3, 2, 1, 1, false, false);
  EXPECT_EQ(e.divisor, (std::vector<int64_t>{2, 3, 2}));
  const kernels::PoolWindows c = kernels::sliding_windows(5, 2, 2, 0, 1, true, true);
  EXPECT_EQ(c.divisor, (std::vector<int64_t>{2, 2, 1}));  // no padding to count past the end
  const kernels::PoolWindows a = kernels::adaptive_windows(5, 3);
  EXPECT_EQ(a.begin, (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(a.end, (std::vector<int64_t>{2, 4, 5}));
  const kernels::PoolWindows d = kernels::sliding_windows(6, 2, 1, 1, 3, false, true);  // taps -1, 2 / 0, 3 / ...
  EXPECT_EQ(d.begin, (std::vector<int64_t>{2, 0, 1, 2, 3}));
  EXPECT_EQ(d.end, (std::vector<int64_t>{3, 4, 5, 6, 6}));
  EXPECT_EQ(d.step, 3);
}

TEST(PoolKernels, MaxPoolValuesAndIndices) {
  const Array x = make({1, 1, 4, 4}, {1, 9, 2, 3, 4, 5, 8, 6, 0, 1, 2, 3, 7, 4, 5, 9});
  const kernels::PoolWindows win = kernels::sliding_windows(4, 2, 2, 0, 1, false, true);
  const auto [y, idx] = kernels::max_pool2d(x, win, win);
  expect_values(y, {9, 8, 7, 9});
  expect_values(idx, {1, 6, 12, 15});
  // The general loop (a 3-d input, 3x3 windows with stride 2 and padding 1, overlapping).
  const kernels::PoolWindows w3 = kernels::sliding_windows(4, 3, 2, 1, 1, false, true);
  const auto [y3, idx3] = kernels::max_pool2d(x.squeeze(0), w3, w3);
  expect_values(y3, {9, 9, 7, 9});
  expect_values(idx3, {1, 1, 12, 15});
  // Backward adds at the indices (two windows pick the same element here); gather reads them back.
  const Array dx = kernels::max_pool2d_backward(make({1, 2, 2}, {1, 2, 3, 4}), idx3, {1, 4, 4});
  expect_values(dx, {0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 4});
  expect_values(kernels::max_pool2d_gather(x.squeeze(0), idx3), {9, 9, 7, 9});
}

TEST(PoolKernels, MaxPoolPropagatesNaN) {
  const Array x = make({1, 2, 2}, {1, testing::kNaN, 3, 2});
  const kernels::PoolWindows win = kernels::sliding_windows(2, 2, 2, 0, 1, false, true);
  const auto [y, idx] = kernels::max_pool2d(x, win, win);
  EXPECT_TRUE(std::isnan(y.item()));
  EXPECT_EQ(idx.item(), 1);
}

// 2x2 / stride-2 max pooling by the definition: taps in PyTorch's order, a larger value or a NaN wins.
std::pair<std::vector<double>, std::vector<double>> max_pool_2x2(const std::vector<double>& x, int64_t planes,
                                                                 int64_t h, int64_t w) {
  std::vector<double> y, idx;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < h / 2; ++i)
      for (int64_t j = 0; j < w / 2; ++j) {
        int64_t at = 2 * i * w + 2 * j;
        for (int64_t k : {2 * i * w + 2 * j + 1, (2 * i + 1) * w + 2 * j, (2 * i + 1) * w + 2 * j + 1}) {
          const double v = x[static_cast<size_t>(p * h * w + k)];
          if (v > x[static_cast<size_t>(p * h * w + at)] || std::isnan(v)) at = k;
        }
        y.push_back(x[static_cast<size_t>(p * h * w + at)]);
        idx.push_back(static_cast<double>(at));
      }
  return {y, idx};
}

TEST(PoolKernels, MaxPool2x2MatchesTheDefinitionWithTiesAndNaN) {
  // Rows of 7, 14, 16, 17 and 33 windows (the vector loop's tails), odd sizes, many ties (values on
  // a coarse grid, as after a ReLU) and a few NaNs; both dtypes (float32 has a SIMD path); enough
  // planes in the last shape to be split between threads.
  for (const Shape& shape :
       {Shape{3, 14, 14}, Shape{2, 28, 28}, Shape{2, 5, 32}, Shape{1, 7, 35}, Shape{2, 3, 66}, Shape{400, 6, 28}}) {
    const int64_t h = shape[1], w = shape[2];
    std::vector<double> v = values(random_array(shape, kFloat64, 11, -2, 3));
    for (size_t i = 0; i < v.size(); ++i) v[i] = i % 37 == 5 ? testing::kNaN : std::max(0.0, std::round(v[i]));
    const auto [ref_y, ref_idx] = max_pool_2x2(v, shape[0], h, w);
    for (DType dtype : {kFloat32, kFloat64}) {
      const Array x = make(shape, v, dtype);
      const kernels::PoolWindows wh = kernels::sliding_windows(h, 2, 2, 0, 1, false, true);
      const kernels::PoolWindows ww = kernels::sliding_windows(w, 2, 2, 0, 1, false, true);
      const auto [y, idx] = kernels::max_pool2d(x, wh, ww);
      const std::vector<double> got = values(y);
      ASSERT_EQ(got.size(), ref_y.size());
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_TRUE(got[i] == ref_y[i] || (std::isnan(got[i]) && std::isnan(ref_y[i]))) << i;
      expect_values(idx, ref_idx);
      // Backward: dy lands at the indices, zeros elsewhere (odd rows and columns included).
      const Array dy = random_array(y.shape(), dtype, 12);
      std::vector<double> ref_dx(static_cast<size_t>(x.numel()), 0.0);
      const std::vector<double> g = values(dy);
      for (size_t i = 0; i < g.size(); ++i)
        ref_dx[static_cast<size_t>(static_cast<int64_t>(i) / (h / 2 * (w / 2)) * h * w) +
               static_cast<size_t>(ref_idx[i])] = g[i];
      expect_values(kernels::max_pool2d_backward(dy, idx, shape), ref_dx);
    }
  }
}

TEST(PoolKernels, MaxPoolBackwardAddsWhenIndicesLeaveTheirBlock) {
  // Halved shapes, but the indices of overlapping 3x3 windows: two outputs pick the same element, so
  // the one-pass write of 2x2 blocks must not be used.
  for (DType dtype : {kFloat32, kFloat64}) {
    const Array x = make({1, 4, 4}, {1, 9, 2, 3, 4, 5, 8, 6, 0, 1, 2, 3, 7, 4, 5, 9}, dtype);
    const kernels::PoolWindows w3 = kernels::sliding_windows(4, 3, 2, 1, 1, false, true);
    const auto [y, idx] = kernels::max_pool2d(x, w3, w3);
    expect_values(idx, {1, 1, 12, 15});
    expect_values(kernels::max_pool2d_backward(make({1, 2, 2}, {1, 2, 3, 4}, dtype), idx, {1, 4, 4}),
                  {0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 4});
  }
}

TEST(PoolKernels, AvgPoolDivisors) {
  const Array x = make({1, 2, 2}, {1, 2, 3, 4});
  const kernels::PoolWindows inc = kernels::sliding_windows(2, 2, 2, 1, 1, false, true);
  const kernels::PoolWindows exc = kernels::sliding_windows(2, 2, 2, 1, 1, false, false);
  expect_values(kernels::avg_pool2d(x, inc, inc), {0.25, 0.5, 0.75, 1});
  expect_values(kernels::avg_pool2d(x, exc, exc), {1, 2, 3, 4});
  // ceil_mode: the last window holds one column; its divisor is 1 (nothing counted past the end)
  const Array x5 = testing::iota({1, 5, 5});
  const kernels::PoolWindows c = kernels::sliding_windows(5, 2, 2, 0, 1, true, true);
  expect_values(kernels::avg_pool2d(x5, c, c), {3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24});
  // Adjoint: <avg(x), dy> = <x, avg^T(dy)>
  const Array xr = random_array({2, 7, 6}, kFloat64, 8);
  const kernels::PoolWindows h = kernels::sliding_windows(7, 3, 2, 1, 1, true, false);
  const kernels::PoolWindows w = kernels::adaptive_windows(6, 4);
  const Array y = kernels::avg_pool2d(xr, h, w);
  const Array dy = random_array(y.shape(), kFloat64, 9);
  EXPECT_NEAR(dot(y, dy), dot(xr, kernels::avg_pool2d_backward(dy, h, w)), 1e-12);
}

// ---- resampling and padding ------------------------------------------------------------------------------

TEST(ResampleKernels, NearestAndBilinear) {
  const Array x = make({1, 1, 2, 2}, {1, 2, 3, 4});
  const kernels::ResampleTaps n4 = kernels::nearest_taps(2, 4, 0);
  expect_values(kernels::resample2d(x, n4, n4), {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  const kernels::ResampleTaps n3 = kernels::nearest_taps(2, 3, 0);  // sources floor(i 2 / 3) = 0, 0, 1
  expect_values(kernels::resample2d(x, n3, n3), {1, 1, 2, 1, 1, 2, 3, 3, 4});
  const kernels::ResampleTaps a3 = kernels::linear_taps(2, 3, 0, true);  // sources 0, 0.5, 1
  expect_values(kernels::resample2d(x, a3, a3), {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
  const kernels::ResampleTaps b4 = kernels::linear_taps(2, 4, 2.0, false);  // sources 0, 0.25, 0.75, 1.25
  expect_values(kernels::resample2d(x, b4, b4),
                {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
  // Adjoint
  const Array xr = random_array({3, 5, 4}, kFloat64, 10);
  const kernels::ResampleTaps h = kernels::linear_taps(5, 8, 0, false);
  const kernels::ResampleTaps w = kernels::linear_taps(4, 3, 0, true);
  const Array y = kernels::resample2d(xr, h, w);
  const Array dy = random_array(y.shape(), kFloat64, 11);
  EXPECT_NEAR(dot(y, dy), dot(xr, kernels::resample2d_backward(dy, h, w)), 1e-12);
}

TEST(PadKernels, PadsAndCrops) {
  const Array x = make({2, 2}, {1, 2, 3, 4});
  const Array y = kernels::pad(x, {1, 0, 0, 1}, 9);
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  expect_values(y, {9, 1, 2, 9, 3, 4, 9, 9, 9});
  expect_values(kernels::pad(x, {-1, 0}, 0), {2, 4});
  expect_values(kernels::pad(x, {-1, 1, 1, -1}, 0), {0, 0, 2, 0});
  expect_values(kernels::pad(make({3}, {1, 2, 3}, kInt64), {-3, 1}, 7), {7});
  testing::expect_error<ValueError>([&] { kernels::pad(x, {1}, 0); }, {"pad", "[1]"});
  testing::expect_error<ValueError>([&] { kernels::pad(x, {1, 1, 1, 1, 1, 1}, 0); }, {"pad"});
  testing::expect_error<ShapeError>([&] { kernels::pad(x, {-2, -1}, 0); }, {"pad", "negative"});
}

}  // namespace
}  // namespace xgrad
