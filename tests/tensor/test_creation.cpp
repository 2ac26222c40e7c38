// Creation kernels: constants, ranges (exact endpoints), identities, seeded random arrays (range,
// moments, reproducibility), and the in-place writers fill_ and copy_ through views, with
// broadcasting, dtype conversion, aliasing and version bumps.
#include <cmath>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad {
namespace {

using namespace xgrad::testing;
namespace k = kernels;
using V = std::vector<double>;

double mean_of(const V& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double var_of(const V& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size());
}

TEST(CreationFull, EveryDtype) {
  for (DType t : {kFloat32, kFloat64, kInt64, kBool}) {
    const Array a = k::full({2, 3}, 1, t);
    EXPECT_EQ(a.dtype(), t);
    EXPECT_EQ(a.shape(), (Shape{2, 3}));
    expect_values(a, V(6, 1));
  }
  expect_values(k::full({3}, 2.5, kFloat32), {2.5, 2.5, 2.5});
  expect_values(k::full({2}, 2.7, kInt64), {2, 2});
  EXPECT_DOUBLE_EQ(k::full({}, -4, kFloat64).item(), -4);
  EXPECT_EQ(k::full({0, 5}, 1, kFloat32).numel(), 0);
  expect_error<ShapeError>([] { k::full({2, -1}, 0, kFloat32); }, {"full", "[2, -1]"});
}

TEST(CreationArange, IntegerAndFractionalSteps) {
  const Array a = k::arange(0, 5, 1, kInt64);
  EXPECT_EQ(a.dtype(), kInt64);
  expect_values(a, {0, 1, 2, 3, 4});
  expect_values(k::arange(0, 1, 0.25, kFloat32), {0, 0.25, 0.5, 0.75});
  expect_values(k::arange(1, 2.1, 0.5, kFloat64), {1, 1.5, 2});
  expect_values(k::arange(5, 0, -2, kInt64), {5, 3, 1});
  EXPECT_EQ(k::arange(3, 3, 1, kFloat32).shape(), Shape{0});
  expect_error<ValueError>([] { k::arange(0, 5, 0, kInt64); }, {"arange", "step"});
  expect_error<ValueError>([] { k::arange(0, 5, -1, kInt64); }, {"arange"});
}

TEST(CreationLinspace, HitsBothEndsExactly) {
  const Array a = k::linspace(0, 1, 5, kFloat64);
  expect_values(a, {0, 0.25, 0.5, 0.75, 1}, 0);
  const Array b = k::linspace(-1, 0.3, 7, kFloat64);
  EXPECT_EQ(values(b).front(), -1.0);
  EXPECT_EQ(values(b).back(), 0.3);
  expect_values(k::linspace(2, 2, 3, kFloat32), {2, 2, 2});
  expect_values(k::linspace(3, 9, 1, kFloat32), {3});
  EXPECT_EQ(k::linspace(0, 1, 0, kFloat32).shape(), Shape{0});
  expect_values(k::linspace(10, 0, 3, kInt64), {10, 5, 0});
  expect_error<ValueError>([] { k::linspace(0, 1, -1, kFloat32); }, {"linspace", "-1"});
}

TEST(CreationEye, SquareAndRectangular) {
  expect_values(k::eye(3, -1, kFloat32), {1, 0, 0, 0, 1, 0, 0, 0, 1});
  const Array r = k::eye(2, 3, kInt64);
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_EQ(r.dtype(), kInt64);
  expect_values(r, {1, 0, 0, 0, 1, 0});
  expect_values(k::eye(3, 2, kFloat64), {1, 0, 0, 1, 0, 0});
  EXPECT_EQ(k::eye(0, -1, kFloat32).shape(), (Shape{0, 0}));
  expect_error<ValueError>([] { k::eye(-2, 2, kFloat32); }, {"eye", "-2"});
}

TEST(CreationRandom, UniformRangeMomentsAndSeed) {
  Generator g1(42), g2(42), g3(43);
  const Array a = k::uniform({10000}, -1, 3, kFloat32, g1);
  const Array b = k::uniform({10000}, -1, 3, kFloat32, g2);
  const Array c = k::uniform({10000}, -1, 3, kFloat32, g3);
  EXPECT_EQ(a.dtype(), kFloat32);
  EXPECT_EQ(values(a), values(b));
  EXPECT_NE(values(a), values(c));
  const V v = values(a);
  for (double x : v) ASSERT_TRUE(x >= -1 && x < 3) << x;
  EXPECT_NEAR(mean_of(v), 1.0, 0.05);
  EXPECT_NEAR(var_of(v), 16.0 / 12, 0.05);
  expect_values(k::uniform({3}, 2, 2, kFloat64, g1), {2, 2, 2});
  expect_error<DTypeError>([&] { k::uniform({2}, 0, 1, kInt64, g1); }, {"uniform", "int64"});
  expect_error<ValueError>([&] { k::uniform({2}, 1, 0, kFloat32, g1); }, {"uniform"});
}

TEST(CreationRandom, UniformNeverReachesHigh) {
  // With a tiny width, rounding to float32 would land on `high` for some draws.
  Generator g(1);
  const V v = values(k::uniform({100000}, 1.0, 1.0000001, kFloat32, g));
  for (double x : v) ASSERT_LT(x, static_cast<double>(static_cast<float>(1.0000001)));
}

TEST(CreationRandom, NormalMomentsAndSeed) {
  Generator g1(7), g2(7);
  const Array a = k::normal({20001}, 2, 0.5, kFloat64, g1);
  EXPECT_EQ(values(a), values(k::normal({20001}, 2, 0.5, kFloat64, g2)));
  const V v = values(a);
  EXPECT_NEAR(mean_of(v), 2.0, 0.02);
  EXPECT_NEAR(std::sqrt(var_of(v)), 0.5, 0.02);
  for (double x : v) ASSERT_TRUE(std::isfinite(x));
  expect_values(k::normal({4}, 3, 0, kFloat32, g1), {3, 3, 3, 3});
  expect_error<ValueError>([&] { k::normal({2}, 0, -1, kFloat32, g1); }, {"normal", "stddev"});
  expect_error<DTypeError>([&] { k::normal({2}, 0, 1, kBool, g1); }, {"normal", "bool"});
}

TEST(CreationRandom, RandintCoversTheHalfOpenRange) {
  Generator g(3);
  const Array a = k::randint({2000}, -2, 3, g);
  EXPECT_EQ(a.dtype(), kInt64);
  std::set<double> seen;
  for (double x : values(a)) {
    ASSERT_TRUE(x >= -2 && x < 3) << x;
    seen.insert(x);
  }
  EXPECT_EQ(seen.size(), 5u);
  expect_error<ValueError>([&] { k::randint({2}, 3, 3, g); }, {"randint", "3"});
}

TEST(CreationFill, WritesOnlyTheViewAndBumpsVersion) {
  const Array base = iota({3, 4});
  const uint64_t v0 = base.version();
  k::fill_(base.slice(1, 0, 4, 2), -1);  // columns 0 and 2
  expect_values(base, {-1, 1, -1, 3, -1, 5, -1, 7, -1, 9, -1, 11});
  EXPECT_GT(base.version(), v0);
  const Array b = k::full({3}, 0, kBool);
  k::fill_(b, 2);
  expect_values(b, {1, 1, 1});
  const Array t = iota({2, 3}).transpose(0, 1);
  k::fill_(t, 5);
  expect_values(t, V(6, 5));
}

TEST(CreationCopy, BroadcastsAndConverts) {
  const Array dst = k::full({3, 4}, 0, kFloat32);
  const uint64_t v0 = dst.version();
  k::copy_(dst, iota({4}, kInt64));
  expect_values(dst, {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3});
  EXPECT_GT(dst.version(), v0);
  k::copy_(dst, iota({3, 4}));
  expect_values(dst, values(iota({3, 4})));
  const Array i = k::full({3}, 0, kInt64);
  k::copy_(i, k::full({3}, 2.9, kFloat64));
  expect_values(i, {2, 2, 2});  // truncation, as a C++ cast
  const Array b = k::full({2}, 0, kBool);
  k::copy_(b, iota({2}));
  expect_values(b, {0, 1});
}

TEST(CreationCopy, IntoViewsAndFromViews) {
  const Array base = k::full({2, 3}, 0, kFloat64);
  k::copy_(base.transpose(0, 1), iota({3, 2}));  // base = iota(3,2)^T
  expect_values(base, {0, 2, 4, 1, 3, 5});
  const Array dst = k::full({2, 2}, 0, kFloat32);
  k::copy_(dst, iota({4, 4}).slice(0, 0, 4, 2).slice(1, 1, 4, 2));  // rows 0, 2, columns 1, 3
  expect_values(dst, {1, 3, 9, 11});
}

TEST(CreationCopy, AliasedSourceIsReadFirst) {
  const Array a = iota({3, 3});
  k::copy_(a, a.transpose(0, 1));
  expect_values(a, {0, 3, 6, 1, 4, 7, 2, 5, 8});
  const Array b = iota({5});
  k::copy_(b.slice(0, 1, 5), b.slice(0, 0, 4));  // overlapping shift right
  expect_values(b, {0, 0, 1, 2, 3});
  const uint64_t v0 = b.version();
  k::copy_(b, b);
  expect_values(b, {0, 0, 1, 2, 3});
  EXPECT_GT(b.version(), v0);
}

TEST(CreationCopy, ShapeErrors) {
  expect_error<ShapeError>([] { k::copy_(k::full({3}, 0, kFloat32), iota({2, 3})); }, {"copy_", "[2, 3]", "[3]"});
  expect_error<ShapeError>([] { k::copy_(k::full({3}, 0, kFloat32), iota({4})); }, {"copy_", "[4]", "[3]"});
}

}  // namespace
}  // namespace xgrad
