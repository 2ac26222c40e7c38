// Reduction and softmax kernels: hand-computed values, every dim combination against a naive
// reference, strided inputs, dtypes, numerical stability and the error paths.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad {
namespace {

using namespace xgrad::testing;
namespace k = kernels;

// Most results here are float32: their default tolerance (relative above 1).
constexpr double kTol = 1e-6;

// A naive reference: gathers each output's elements (in row-major order) and applies `fold`.
Array reference(const Array& x, Dims dims, bool keepdim,
                const std::function<double(const std::vector<double>&)>& fold) {
  dims = normalize_dims("ref", dims, x.dim());
  const Shape out_shape = reduced_shape(x.shape(), dims, keepdim);
  const Shape kept_shape = reduced_shape(x.shape(), dims, true);
  std::vector<std::vector<double>> groups(static_cast<size_t>(numel(out_shape)));
  const std::vector<double> v = values(x);
  const Strides ks = contiguous_strides(kept_shape);
  Shape idx(x.shape().size(), 0);
  for (int64_t flat = 0; flat < x.numel(); ++flat) {
    int64_t rem = flat;
    int64_t out = 0;
    for (int64_t d = x.dim() - 1; d >= 0; --d) {
      idx[d] = rem % x.shape()[d];
      rem /= x.shape()[d];
    }
    for (int64_t d = 0; d < x.dim(); ++d)
      if (kept_shape[d] != 1) out += idx[d] * ks[d];
    groups[out].push_back(v[flat]);
  }
  Array r(out_shape, kFloat64);
  for (size_t i = 0; i < groups.size(); ++i) r.data<double>()[i] = fold(groups[i]);
  return r;
}

double fold_sum(const std::vector<double>& g) {
  double s = 0;
  for (double v : g) s += v;
  return s;
}
double fold_mean(const std::vector<double>& g) { return fold_sum(g) / static_cast<double>(g.size()); }
double fold_prod(const std::vector<double>& g) {
  double s = 1;
  for (double v : g) s *= v;
  return s;
}
double fold_max(const std::vector<double>& g) { return *std::max_element(g.begin(), g.end()); }
double fold_min(const std::vector<double>& g) { return *std::min_element(g.begin(), g.end()); }
double fold_var(const std::vector<double>& g) {
  const double m = fold_mean(g);
  double s = 0;
  for (double v : g) s += (v - m) * (v - m);
  return s / static_cast<double>(g.size() - 1);
}
double fold_lse(const std::vector<double>& g) {
  double s = 0;
  for (double v : g) s += std::exp(v);
  return std::log(s);
}

// ---- hand-computed values -----------------------------------------------------------------------

TEST(ReduceSum, HandValuesOverEachDim) {
  const Array x = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat32);
  expect_values(k::sum(x, {}, false), {21}, kTol);
  EXPECT_EQ(k::sum(x, {}, false).shape(), Shape{});
  expect_values(k::sum(x, {0}, false), {5, 7, 9}, kTol);
  expect_values(k::sum(x, {1}, false), {6, 15}, kTol);
  expect_values(k::sum(x, {-1}, false), {6, 15}, kTol);
  expect_values(k::sum(x, {-2, 1}, false), {21}, kTol);
  EXPECT_EQ(k::sum(x, {1}, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(k::sum(x, {0}, true).shape(), (Shape{1, 3}));
  EXPECT_EQ(k::sum(x, {}, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(k::sum(x, {}, false).dtype(), kFloat32);
}

TEST(ReduceSum, SeveralDimsAdjacentAndNot) {
  std::vector<double> v(24);
  for (int i = 0; i < 24; ++i) v[i] = i;
  const Array x = make({2, 3, 4}, v);
  // dims {0, 2}: out[j] = sum_{i,k} (12 i + 4 j + k) = 2*4*4j + (0+12)*4 + 2*(0+1+2+3)
  expect_values(k::sum(x, {0, 2}, false), {60, 92, 124}, kTol);
  expect_values(k::sum(x, {1, 2}, false), {66, 210}, kTol);
  expect_values(k::sum(x, {0, 1}, false), {60, 66, 72, 78}, kTol);
  EXPECT_EQ(k::sum(x, {2, 0}, true).shape(), (Shape{1, 3, 1}));
}

TEST(ReduceSum, IntegerAndBoolGiveInt64) {
  const Array i = make({2, 2}, {1, -2, 3, 4}, kInt64);
  EXPECT_EQ(k::sum(i, {}, false).dtype(), kInt64);
  expect_values(k::sum(i, {0}, false), {4, 2}, kTol);
  const Array b = make({2, 3}, {true, false, true, true, true, false}, kBool);
  EXPECT_EQ(k::sum(b, {1}, false).dtype(), kInt64);
  expect_values(k::sum(b, {1}, false), {2, 2}, kTol);
  expect_values(k::sum(b, {0}, false), {2, 1, 1}, kTol);
}

TEST(ReduceSum, ZeroDimInputAndEmptyInputs) {
  const Array s = make({}, {2.5f}, kFloat32);
  expect_values(k::sum(s, {}, false), {2.5}, kTol);
  expect_values(k::sum(s, {0}, true), {2.5}, kTol);
  expect_values(k::sum(s, {-1}, false), {2.5}, kTol);
  EXPECT_EQ(k::sum(s, {0}, true).shape(), Shape{});
  const Array e(Shape{0, 3}, kFloat32);
  expect_values(k::sum(e, {0}, false), {0, 0, 0}, kTol);
  EXPECT_EQ(k::sum(e, {1}, false).shape(), Shape{0});
  expect_values(k::prod(e, {0}, false), {1, 1, 1}, kTol);
}

TEST(ReduceSum, StridedInputs) {
  const Array x = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat32);
  const Array t = x.transpose(0, 1);  // [[1, 4], [2, 5], [3, 6]]
  expect_values(k::sum(t, {0}, false), {6, 15}, kTol);
  expect_values(k::sum(t, {1}, false), {5, 7, 9}, kTol);
  const Array sl = x.slice(1, 0, 3, 2);  // [[1, 3], [4, 6]]
  expect_values(k::sum(sl, {1}, false), {4, 10}, kTol);
  expect_values(k::sum(sl, {0}, false), {5, 9}, kTol);
  const Array ex = make({3}, {1, 2, 3}, kFloat32).expand({4, 3});  // stride 0
  expect_values(k::sum(ex, {0}, false), {4, 8, 12}, kTol);
  expect_values(k::sum(ex, {}, false), {24}, kTol);
}

TEST(ReduceSum, Float32AccuracyOverFourMillionElements) {
  const int64_t n = 4 << 20;
  Array x(Shape{n}, kFloat32);
  float* p = x.data<float>();
  for (int64_t i = 0; i < n; ++i) p[i] = 0.1f;
  const double exact = static_cast<double>(0.1f) * static_cast<double>(n);
  // A naive float32 running sum of these stalls near 2^21 (error ~ 25%): blocked accumulation must not.
  EXPECT_NEAR(k::sum(x, {}, false).item(), exact, exact * 1e-6);
  EXPECT_NEAR(k::mean(x, {}, false).item(), 0.1f, 1e-7);
  // The same along the leading axis (the column-accumulation path).
  const Array m = x.view({n / 1024, 1024});
  for (double v : values(k::sum(m, {0}, false))) EXPECT_NEAR(v, exact / 1024, exact / 1024 * 1e-6);
}

TEST(ReduceSum, SumToReducesBroadcastDims) {
  std::vector<double> v(24);
  for (int i = 0; i < 24; ++i) v[i] = i;
  const Array x = make({2, 3, 4}, v, kFloat32);
  EXPECT_EQ(k::sum_to(x, {3, 4}).shape(), (Shape{3, 4}));
  expect_values(k::sum_to(x, {4}), values(k::sum(x, {0, 1}, false)), kTol);
  expect_values(k::sum_to(x, {3, 1}), values(k::sum(x, {0, 2}, false)), kTol);
  expect_values(k::sum_to(x, {1, 3, 1}), values(k::sum(x, {0, 2}, false)), kTol);
  expect_values(k::sum_to(x, {}), {276}, kTol);
  const Array same = k::sum_to(x, {2, 3, 4});
  expect_values(same, values(x), kTol);
  EXPECT_NE(same.storage(), x.storage());  // a fresh array, as every kernel result
}

// ---- every dim combination against the reference --------------------------------------------

TEST(ReduceAll, EveryDimCombinationMatchesReference) {
  const Array x = random_array({3, 4, 5}, kFloat64, 7, -2, 2);
  const Array xt = x.permute({2, 0, 1});  // non-contiguous [5, 3, 4]
  const std::vector<Dims> combos = {{}, {0}, {1}, {2}, {-1}, {0, 1}, {0, 2}, {1, 2}, {-3, -1}, {0, 1, 2}};
  for (const Array& a : {x, xt}) {
    for (const Dims& d : combos) {
      for (bool keep : {false, true}) {
        SCOPED_TRACE("dims " + to_string(d) + " keepdim " + std::to_string(keep) + " shape " + to_string(a.shape()));
        const Array s = k::sum(a, d, keep);
        EXPECT_EQ(s.shape(), reference(a, d, keep, fold_sum).shape());
        expect_values(s, values(reference(a, d, keep, fold_sum)), 1e-12);
        expect_values(k::mean(a, d, keep), values(reference(a, d, keep, fold_mean)), 1e-12);
        expect_values(k::prod(a, d, keep), values(reference(a, d, keep, fold_prod)), 1e-12);
        expect_values(k::amax(a, d, keep), values(reference(a, d, keep, fold_max)), 0);
        expect_values(k::amin(a, d, keep), values(reference(a, d, keep, fold_min)), 0);
        expect_values(k::var(a, d, 1, keep), values(reference(a, d, keep, fold_var)), 1e-12);
        expect_values(k::logsumexp(a, d, keep), values(reference(a, d, keep, fold_lse)), 1e-12);
      }
    }
  }
}

TEST(ReduceAll, WideRowsAndColumnsCrossTileEdges) {
  // inner > the kernels' tile width, and rows longer than a block, in float32 and int64.
  for (DType dt : {kFloat32, kInt64}) {
    const Array x = random_array({3, 7, 1300}, dt, 11, -50, 50);
    for (const Dims& d : std::vector<Dims>{{0}, {1}, {2}, {0, 1}, {1, 2}}) {
      SCOPED_TRACE("dims " + to_string(d) + " dtype " + std::string(dtype_name(dt)));
      expect_values(k::sum(x, d, false), values(reference(x, d, false, fold_sum)), 1e-5);
      expect_values(k::amax(x, d, false), values(reference(x, d, false, fold_max)), 0);
      expect_values(k::amin(x, d, true), values(reference(x, d, true, fold_min)), 0);
    }
  }
  const Array y = random_array({4000, 3}, kFloat32, 12, -2, 2);
  expect_values(k::sum(y, {0}, false), values(reference(y, {0}, false, fold_sum)), 1e-5);
  expect_values(k::var(y, {0}, 1, false), values(reference(y, {0}, false, fold_var)), 1e-5);
}

// ---- mean, prod, var ------------------------------------------------------------------------------

TEST(ReduceMean, ValuesAndDTypes) {
  const Array x = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat32);
  expect_values(k::mean(x, {}, false), {3.5}, kTol);
  expect_values(k::mean(x, {0}, false), {2.5, 3.5, 4.5}, kTol);
  expect_values(k::mean(x, {1}, true), {2, 5}, kTol);
  EXPECT_EQ(k::mean(x, {1}, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(k::mean(x, {}, false).dtype(), kFloat32);
  expect_values(k::mean(Array(Shape{0}, kFloat64), {}, false), {kNaN}, kTol);  // as PyTorch
  expect_error<DTypeError>([] { k::mean(make({2}, {1, 2}, kInt64), {}, false); }, {"mean", "int64"});
  expect_error<DTypeError>([] { k::mean(make({1}, {true}, kBool), {}, false); }, {"mean", "bool"});
}

TEST(ReduceProd, ValuesAndIntegers) {
  const Array x = make({2, 3}, {1, 2, 3, 4, 0.5, -1});
  expect_values(k::prod(x, {}, false), {-12}, kTol);
  expect_values(k::prod(x, {0}, false), {4, 1, -3}, kTol);
  expect_values(k::prod(x, {1}, false), {6, -2}, kTol);
  const Array i = make({3}, {2, -3, 4}, kInt64);
  EXPECT_EQ(k::prod(i, {}, false).dtype(), kInt64);
  expect_values(k::prod(i, {}, false), {-24}, kTol);
  EXPECT_EQ(k::prod(make({2}, {true, false}, kBool), {}, false).dtype(), kInt64);
  expect_values(k::prod(make({2}, {true, false}, kBool), {}, false), {0}, kTol);
}

TEST(ReduceVar, CorrectionAndHandValues) {
  const Array x = make({2, 4}, {1, 2, 3, 4, 2, 2, 2, 2});
  expect_values(k::var(x, {1}, 1, false), {5.0 / 3.0, 0}, kTol);
  expect_values(k::var(x, {1}, 0, false), {1.25, 0}, kTol);
  expect_values(k::var(x, {0}, 1, true), {0.5, 0, 0.5, 2}, kTol);
  EXPECT_EQ(k::var(x, {0}, 1, true).shape(), (Shape{1, 4}));
  // mean 2.25, squared deviations sum 1.5625+.0625+.5625+3.0625+4*.0625 = 5.5
  expect_values(k::var(x, {}, 1, false), {5.5 / 7}, kTol);
  // Large offset: a one-pass formula would cancel catastrophically.
  const Array big = make({4}, {1e4f + 1, 1e4f + 2, 1e4f + 3, 1e4f + 4}, kFloat32);
  expect_values(k::var(big, {}, 1, false), {5.0 / 3.0}, 1e-6);
  // One element with Bessel's correction divides 0 by 0, as PyTorch.
  expect_values(k::var(make({1}, {3}), {}, 1, false), {kNaN}, kTol);
  expect_values(k::var(make({1}, {3}), {}, 0, false), {0}, kTol);
  expect_error<DTypeError>([] { k::var(make({2}, {1, 2}, kInt64), {}, 1, false); }, {"var", "int64"});
}

// ---- max, min, arg ------------------------------------------------------------------------------

TEST(ReduceExtremum, ValuesNaNAndDTypes) {
  const Array x = make({2, 3}, {1, 5, -2, 7, 0, 3}, kFloat32);
  expect_values(k::amax(x, {}, false), {7}, kTol);
  expect_values(k::amin(x, {}, false), {-2}, kTol);
  expect_values(k::amax(x, {0}, false), {7, 5, 3}, kTol);
  expect_values(k::amin(x, {1}, true), {-2, 0}, kTol);
  EXPECT_EQ(k::amax(x, {0}, false).dtype(), kFloat32);
  const Array n = make({2, 3}, {1, kNaN, 3, 4, 5, 6});
  expect_values(k::amax(n, {1}, false), {kNaN, 6}, kTol);
  expect_values(k::amin(n, {0}, false), {1, kNaN, 3}, kTol);
  expect_values(k::amax(n, {}, false), {kNaN}, kTol);
  const Array i = make({3}, {-5, 9, 2}, kInt64);
  EXPECT_EQ(k::amax(i, {}, false).dtype(), kInt64);
  expect_values(k::amax(i, {}, false), {9}, kTol);
  expect_values(k::amin(i, {}, false), {-5}, kTol);
  const Array b = make({2, 2}, {false, true, false, false}, kBool);
  EXPECT_EQ(k::amax(b, {1}, false).dtype(), kBool);
  expect_values(k::amax(b, {1}, false), {1, 0}, kTol);
  expect_values(k::amin(b, {0}, false), {0, 0}, kTol);
  expect_values(k::amax(make({2}, {-kInf, -kInf}), {}, false), {-kInf}, kTol);
}

TEST(ReduceArg, FirstOfTiesAndNaN) {
  const Array x = make({2, 4}, {1, 7, 7, 0, 3, 3, -1, -1}, kFloat32);
  expect_values(k::argmax(x, 1, false), {1, 0}, kTol);
  expect_values(k::argmin(x, 1, false), {3, 2}, kTol);
  expect_values(k::argmax(x, 0, false), {1, 0, 0, 0}, kTol);
  expect_values(k::argmin(x, -2, true), {0, 1, 1, 1}, kTol);
  EXPECT_EQ(k::argmin(x, -2, true).shape(), (Shape{1, 4}));
  EXPECT_EQ(k::argmax(x, 1, false).dtype(), kInt64);
  expect_values(k::argmax_all(x), {1}, kTol);
  expect_values(k::argmin_all(x), {6}, kTol);
  EXPECT_EQ(k::argmax_all(x).shape(), Shape{});
  const Array n = make({5}, {1, kNaN, 9, kNaN, 0});
  expect_values(k::argmax(n, 0, false), {1}, kTol);
  expect_values(k::argmin(n, 0, false), {1}, kTol);
  expect_values(k::argmax_all(n), {1}, kTol);
  // The column path (inner > 1) with a NaN.
  const Array c = make({3, 2}, {1, 5, kNaN, 5, 2, 6});
  expect_values(k::argmax(c, 0, false), {1, 2}, kTol);
  expect_values(k::argmin(c, 0, false), {1, 0}, kTol);
  expect_values(k::argmax(make({3}, {false, true, true}, kBool), 0, false), {1}, kTol);
  expect_values(k::argmin(make({3}, {4, -2, -2}, kInt64), 0, false), {1}, kTol);
}

TEST(ReduceArg, StridedAndZeroDim) {
  const Array x = make({2, 3}, {1, 9, 2, 8, 0, 3}, kFloat32);
  const Array t = x.transpose(0, 1);  // [[1, 8], [9, 0], [2, 3]]
  expect_values(k::argmax(t, 1, false), {1, 0, 1}, kTol);
  expect_values(k::argmax_all(t), {2}, kTol);  // the flat row-major index of the logical tensor
  expect_values(k::argmin_all(t), {3}, kTol);
  const Array s = make({}, {4}, kFloat32);
  expect_values(k::argmax(s, 0, false), {0}, kTol);
  expect_values(k::argmax_all(s), {0}, kTol);
  expect_values(k::amax(s, {}, false), {4}, kTol);
  EXPECT_EQ(k::argmax(s, -1, true).shape(), Shape{});
}

TEST(ReduceArg, EmptyInputsThrow) {
  const Array e(Shape{0, 3}, kFloat32);
  expect_error<ValueError>([&] { k::argmax_all(e); }, {"argmax", "empty", "[0, 3]"});
  expect_error<ValueError>([&] { k::argmin_all(e); }, {"argmin", "[0, 3]"});
  expect_error<ValueError>([&] { k::argmax(e, 0, false); }, {"argmax", "size 0", "[0, 3]"});
  expect_error<ValueError>([&] { k::amax(e, {0}, false); }, {"amax", "[0, 3]"});
  expect_error<ValueError>([&] { k::amin(e, {}, false); }, {"amin", "[0, 3]"});
  EXPECT_EQ(k::argmax(e, 1, false).shape(), Shape{0});  // reducing a non-empty dim is fine
  EXPECT_EQ(k::amax(e, {1}, true).shape(), (Shape{0, 1}));
}

// ---- logsumexp ----------------------------------------------------------------------------------

TEST(ReduceLogsumexp, ValuesAndStability) {
  const Array x = make({2, 2}, {0, std::log(3.0), 1, 1});
  expect_values(k::logsumexp(x, {1}, false), {std::log(4.0), 1 + std::log(2.0)}, kTol);
  expect_values(k::logsumexp(x, {0}, true), {std::log(1 + std::exp(1.0)), std::log(3 + std::exp(1.0))}, kTol);
  // exp(1e4) overflows; the max shift must not.
  const Array big = make({3}, {1e4f, 1e4f, -1e4f}, kFloat32);
  expect_values(k::logsumexp(big, {}, false), {1e4 + std::log(2.0)}, kTol);
  expect_values(k::logsumexp(make({2}, {-1e4f, -1e4f}, kFloat32), {}, false), {-1e4 + std::log(2.0)}, kTol);
  expect_values(k::logsumexp(make({2}, {-kInf, -kInf}), {}, false), {-kInf}, kTol);
  expect_values(k::logsumexp(make({2}, {kInf, 1}), {}, false), {kInf}, kTol);
  expect_values(k::logsumexp(Array(Shape{0}, kFloat64), {}, false), {-kInf}, kTol);
  // Column path with extremes.
  const Array c = make({2, 2}, {1e4f, -1e4f, 1e4f, -1e4f}, kFloat32);
  expect_values(k::logsumexp(c, {0}, false), {1e4 + std::log(2.0), -1e4 + std::log(2.0)}, kTol);
  expect_error<DTypeError>([] { k::logsumexp(make({2}, {1, 2}, kInt64), {}, false); }, {"logsumexp", "int64"});
}

// ---- any, all -----------------------------------------------------------------------------------

TEST(ReduceLogical, AnyAll) {
  const Array b = make({2, 3}, {true, false, true, false, false, false}, kBool);
  EXPECT_EQ(k::any(b, {}, false).dtype(), kBool);
  expect_values(k::any(b, {}, false), {1}, kTol);
  expect_values(k::all(b, {}, false), {0}, kTol);
  expect_values(k::any(b, {1}, false), {1, 0}, kTol);
  expect_values(k::any(b, {0}, true), {1, 0, 1}, kTol);
  expect_values(k::all(make({2, 2}, {true, true, true, false}, kBool), {1}, false), {1, 0}, kTol);
  expect_values(k::any(make({3}, {0, -0.0f, 2}, kFloat32), {}, false), {1}, kTol);
  expect_values(k::all(make({3}, {1, 0, 2}, kFloat32), {}, false), {0}, kTol);
  expect_values(k::any(make({1}, {kNaN}), {}, false), {1}, kTol);  // NaN is nonzero
  expect_values(k::all(make({2}, {3, -1}, kInt64), {}, false), {1}, kTol);
  expect_values(k::any(Array(Shape{0}, kBool), {}, false), {0}, kTol);
  expect_values(k::all(Array(Shape{0}, kBool), {}, false), {1}, kTol);
}

// ---- softmax, log_softmax ---------------------------------------------------------------------

TEST(ReduceSoftmax, ValuesAlongEachDim) {
  const Array x = make({2, 3}, {0, std::log(2.0), std::log(5.0), 1, 1, 1});
  expect_values(k::softmax(x, 1), {0.125, 0.25, 0.625, 1.0 / 3, 1.0 / 3, 1.0 / 3}, 1e-12);
  expect_values(k::log_softmax(x, -1),
                {std::log(0.125), std::log(0.25), std::log(0.625), -std::log(3.0), -std::log(3.0), -std::log(3.0)},
                1e-12);
  const double a = 1 / (1 + std::exp(1.0));
  expect_values(k::softmax(x, 0),
                {a, 2 / (2 + std::exp(1.0)), 5 / (5 + std::exp(1.0)), 1 - a, std::exp(1.0) / (2 + std::exp(1.0)),
                 std::exp(1.0) / (5 + std::exp(1.0))},
                1e-12);
  EXPECT_EQ(k::softmax(x, 0).shape(), x.shape());
}

TEST(ReduceSoftmax, MatchesReferenceOnWideAndStridedInputs) {
  for (DType dt : {kFloat32, kFloat64}) {
    const Array x = random_array({3, 5, 700}, dt, 21, -5, 5);
    for (int64_t d : {0, 1, 2}) {
      for (const Array& a : {x, x.transpose(0, 2)}) {
        SCOPED_TRACE("dim " + std::to_string(d) + " shape " + to_string(a.shape()));
        const std::vector<double> lse = values(reference(a, {d}, true, fold_lse).expand(a.shape()));
        std::vector<double> expect_log = values(a);
        std::vector<double> expect_soft(expect_log.size());
        for (size_t i = 0; i < expect_log.size(); ++i) {
          expect_log[i] -= lse[i];
          expect_soft[i] = std::exp(expect_log[i]);
        }
        const double tol = dt == kFloat32 ? 1e-5 : 1e-12;
        expect_values(k::log_softmax(a, d), expect_log, tol);
        expect_values(k::softmax(a, d), expect_soft, tol);
        EXPECT_EQ(k::softmax(a, d).dtype(), dt);
      }
    }
  }
}

TEST(ReduceSoftmax, ExtremeValuesStayFinite) {
  const Array x = make({3}, {1e4f, -1e4f, 0}, kFloat32);
  expect_values(k::softmax(x, 0), {1, 0, 0}, kTol);
  expect_values(k::log_softmax(x, 0), {0, -2e4, -1e4}, kTol);
  const Array y = make({2, 2}, {1e4f, -1e4f, 1e4f, -1e4f}, kFloat32);  // column path
  expect_values(k::softmax(y, 0), {0.5, 0.5, 0.5, 0.5}, kTol);
  expect_values(k::log_softmax(y, 0), {-std::log(2.0), -std::log(2.0), -std::log(2.0), -std::log(2.0)}, kTol);
  expect_values(k::log_softmax(make({2}, {-1e4, -1e4}), 0), {-std::log(2.0), -std::log(2.0)}, kTol);
  expect_values(k::softmax(make({2}, {-kInf, 0}), 0), {0, 1}, kTol);
  expect_values(k::log_softmax(make({2}, {-kInf, 0}), 0), {-kInf, 0}, kTol);
  // The same through the vector exp (rows longer than a SIMD batch).
  std::vector<double> row(40, -kInf), soft(40, 0.0), logsoft(40, -kInf);
  row[0] = row[39] = 1e4;
  soft[0] = soft[39] = 0.5;
  logsoft[0] = logsoft[39] = -std::log(2.0);
  expect_values(k::softmax(make({40}, row), 0), soft, kTol);
  expect_values(k::log_softmax(make({40}, row), 0), logsoft, kTol);
  expect_values(k::logsumexp(make({40}, row), {}, false), {1e4 + std::log(2.0)}, kTol);
}

TEST(ReduceSoftmax, ZeroDimAndErrors) {
  const Array s = make({}, {3}, kFloat32);
  expect_values(k::softmax(s, 0), {1}, kTol);
  expect_values(k::log_softmax(s, -1), {0}, kTol);
  EXPECT_EQ(k::softmax(s, 0).shape(), Shape{});
  EXPECT_EQ(k::softmax(Array(Shape{2, 0}, kFloat32), 1).shape(), (Shape{2, 0}));
  expect_error<DTypeError>([] { k::softmax(make({2}, {1, 2}, kInt64), 0); }, {"softmax", "int64"});
  expect_error<DTypeError>([] { k::log_softmax(make({1}, {true}, kBool), 0); }, {"log_softmax", "bool"});
  expect_error<IndexError>([] { k::softmax(make({2, 2}, {1, 2, 3, 4}, kFloat32), 2); }, {"softmax", "dim 2", "[2, 2]"});
  expect_error<IndexError>([] { k::log_softmax(make({2}, {1, 2}, kFloat32), -2); }, {"log_softmax", "dim -2", "[2]"});
}

// ---- errors -------------------------------------------------------------------------------------

TEST(ReduceErrors, BadDimsNameTheOpAndShape) {
  const Array x = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat32);
  expect_error<IndexError>([&] { k::sum(x, {2}, false); }, {"sum", "dim 2", "[2, 3]"});
  expect_error<IndexError>([&] { k::mean(x, {-3}, false); }, {"mean", "dim -3", "[2, 3]"});
  expect_error<IndexError>([&] { k::sum(x, {1, -1}, false); }, {"sum", "more than once", "[2, 3]"});
  expect_error<IndexError>([&] { k::prod(x, {5}, false); }, {"prod"});
  expect_error<IndexError>([&] { k::amax(x, {2}, false); }, {"amax"});
  expect_error<IndexError>([&] { k::amin(x, {-4}, false); }, {"amin"});
  expect_error<IndexError>([&] { k::argmax(x, 2, false); }, {"argmax", "[2, 3]"});
  expect_error<IndexError>([&] { k::argmin(x, -3, false); }, {"argmin"});
  expect_error<IndexError>([&] { k::var(x, {3}, 1, false); }, {"var"});
  expect_error<IndexError>([&] { k::logsumexp(x, {2}, false); }, {"logsumexp"});
  expect_error<IndexError>([&] { k::any(x, {2}, false); }, {"any"});
  expect_error<IndexError>([&] { k::all(x, {2}, false); }, {"all"});
  expect_error<IndexError>([] { k::sum(make({}, {1}, kFloat32), {1}, false); }, {"sum", "0-d"});
}

TEST(ReduceErrors, SumToShapesThatDoNotBroadcast) {
  const Array x = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat32);
  expect_error<ShapeError>([&] { k::sum_to(x, {2}); }, {"sum_to", "[2, 3]", "[2]"});
  expect_error<ShapeError>([&] { k::sum_to(x, {1, 2, 3}); }, {"sum_to", "[1, 2, 3]"});
  expect_error<ShapeError>([&] { k::sum_to(x, {4, 3}); }, {"sum_to", "[4, 3]"});
}

TEST(ReduceErrors, UndefinedInput) {
  expect_error<ValueError>([] { k::sum(Array(), {}, false); }, {"sum", "undefined"});
  expect_error<ValueError>([] { k::softmax(Array(), 0); }, {"softmax", "undefined"});
  expect_error<ValueError>([] { k::argmax_all(Array()); }, {"argmax", "undefined"});
}

}  // namespace
}  // namespace xgrad
