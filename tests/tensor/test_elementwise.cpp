// Elementwise kernels: values against the C library, the SIMD tail (every length gives the same
// per-element result), broadcasting, dtype promotion, strided and expanded inputs, in-place ops
// with aliasing, and every error path with its message.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad {
namespace {

using namespace xgrad::testing;
namespace k = kernels;
using k::Binary;
using k::Unary;
using V = std::vector<double>;

double sigmoid_ref(double x) { return 1 / (1 + std::exp(-x)); }

struct UnaryRef {
  Unary op;
  double (*ref)(double);
  double low, high;  // sampled domain
};

const std::vector<UnaryRef>& unary_refs() {
  static const std::vector<UnaryRef> refs = {
      {Unary::Neg, [](double x) { return -x; }, -3, 3},
      {Unary::Abs, [](double x) { return std::abs(x); }, -3, 3},
      {Unary::Exp, [](double x) { return std::exp(x); }, -10, 10},
      {Unary::Log, [](double x) { return std::log(x); }, 0.01, 50},
      {Unary::Log1p, [](double x) { return std::log1p(x); }, -0.9, 5},
      {Unary::Sqrt, [](double x) { return std::sqrt(x); }, 0, 50},
      {Unary::Rsqrt, [](double x) { return 1 / std::sqrt(x); }, 0.01, 50},
      {Unary::Sin, [](double x) { return std::sin(x); }, -7, 7},
      {Unary::Cos, [](double x) { return std::cos(x); }, -7, 7},
      {Unary::Tanh, [](double x) { return std::tanh(x); }, -6, 6},
      {Unary::Sigmoid, sigmoid_ref, -30, 30},
      {Unary::Relu, [](double x) { return x > 0 ? x : 0; }, -3, 3},
      {Unary::Gelu, [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }, -5, 5},
      {Unary::GeluTanh,
       [](double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }, -5, 5},
      {Unary::Silu, [](double x) { return x * sigmoid_ref(x); }, -20, 20},
      {Unary::Softplus, [](double x) { return x > 20 ? x : std::log1p(std::exp(x)); }, -30, 30},
      {Unary::Reciprocal, [](double x) { return 1 / x; }, 0.1, 5},
      {Unary::Square, [](double x) { return x * x; }, -3, 3},
      {Unary::Floor, [](double x) { return std::floor(x); }, -3, 3},
      {Unary::Ceil, [](double x) { return std::ceil(x); }, -3, 3},
      {Unary::Erf, [](double x) { return std::erf(x); }, -3, 3},
  };
  return refs;
}

// Evenly spaced samples of [low, high], n of them.
V samples(double low, double high, int64_t n) {
  V v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = low + (high - low) * (static_cast<double>(i) + 0.37) / static_cast<double>(n);
  return v;
}

V map_ref(double (*f)(double), const V& x) {
  V y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = f(x[i]);
  return y;
}

TEST(ElementwiseUnary, Float64MatchesTheCLibrary) {
  for (const UnaryRef& r : unary_refs()) {
    SCOPED_TRACE(static_cast<int>(r.op));
    const V x = samples(r.low, r.high, 37);  // not a multiple of any SIMD width: the tail is exercised
    expect_values(k::unary(r.op, make({37}, x)), map_ref(r.ref, x), 1e-13);
  }
}

TEST(ElementwiseUnary, Float32MatchesTheCLibrary) {
  for (const UnaryRef& r : unary_refs()) {
    SCOPED_TRACE(static_cast<int>(r.op));
    const Array x = make({5, 7}, samples(r.low, r.high, 35), kFloat32);
    const Array y = k::unary(r.op, x);
    EXPECT_EQ(y.dtype(), kFloat32);
    EXPECT_EQ(y.shape(), (Shape{5, 7}));
    expect_values(y, map_ref(r.ref, values(x)), 2e-6);
  }
}

TEST(ElementwiseUnary, EveryLengthGivesTheSameElementValues) {
  // The SIMD body and the padded tail must agree bit for bit.
  const Array big = k::unary(Unary::Tanh, iota({40}, kFloat32, 0.1, -2));
  for (int64_t n : {0, 1, 3, 8, 15, 16, 17, 31}) {
    const Array y = k::unary(Unary::Tanh, iota({n}, kFloat32, 0.1, -2));
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(y.data<float>()[i], big.data<float>()[i]) << n << " " << i;
  }
}

TEST(ElementwiseUnary, SpecialValues) {
  expect_values(k::unary(Unary::Sign, make({5}, {-2, 0, 3, kNaN, -kInf})), {-1, 0, 1, kNaN, -1});
  expect_values(k::unary(Unary::Relu, make({3}, {kNaN, -1, 2}, kFloat32)), {kNaN, 0, 2});
  expect_values(k::unary(Unary::Round, make({6}, {0.5, 1.5, 2.5, -0.5, -1.5, 2.4})), {0, 2, 2, 0, -2, 2});
  expect_values(k::unary(Unary::Exp, make({3}, {-kInf, 0, 1000})), {0, 1, kInf});
  expect_values(k::unary(Unary::Log, make({3}, {0, -1, 1})), {-kInf, kNaN, 0});
  expect_values(k::unary(Unary::Sigmoid, make({3}, {-200, 0, 200}, kFloat32)), {0, 0.5, 1});
  expect_values(k::unary(Unary::Softplus, make({2}, {30, 0})), {30, std::log(2.0)});
  expect_values(k::unary(Unary::Silu, make({2}, {-200, 200}, kFloat32)), {0, 200});
}

TEST(ElementwiseUnary, ZeroDimAndEmpty) {
  const Array y = k::unary(Unary::Exp, make({}, {1}));
  EXPECT_EQ(y.shape(), Shape{});
  EXPECT_DOUBLE_EQ(y.item(), std::exp(1.0));
  EXPECT_EQ(k::unary(Unary::Exp, Array({0, 3}, kFloat32)).shape(), (Shape{0, 3}));
}

TEST(ElementwiseUnary, StridedInputs) {
  const Array x = iota({4, 6}, kFloat32, 0.25, -3);
  const Array t = x.transpose(0, 1);  // [6, 4], non-contiguous
  const Array y = k::unary(Unary::Exp, t);
  EXPECT_TRUE(y.is_contiguous());
  expect_values(y, values(k::unary(Unary::Exp, t.contiguous())), 0);
  const Array s = x.slice(1, 1, 6, 2);  // columns 1, 3, 5
  expect_values(k::unary(Unary::Square, s), map_ref([](double v) { return v * v; }, values(s)), 1e-6);
  const Array e = make({3}, {1, 2, 3}).unsqueeze(0).expand({4, 3});  // stride 0
  expect_values(k::unary(Unary::Neg, e), {-1, -2, -3, -1, -2, -3, -1, -2, -3, -1, -2, -3});
  // The input is untouched.
  expect_values(x.slice(0, 0, 1), {-3, -2.75, -2.5, -2.25, -2, -1.75});
}

TEST(ElementwiseUnary, Int64Ops) {
  const Array x = make({5}, {-3, -1, 0, 2, 5}, kInt64);
  for (Unary op : {Unary::Neg, Unary::Abs, Unary::Sign, Unary::Relu, Unary::Square, Unary::Floor})
    EXPECT_EQ(k::unary(op, x).dtype(), kInt64);
  expect_values(k::unary(Unary::Neg, x), {3, 1, 0, -2, -5});
  expect_values(k::unary(Unary::Abs, x), {3, 1, 0, 2, 5});
  expect_values(k::unary(Unary::Sign, x), {-1, -1, 0, 1, 1});
  expect_values(k::unary(Unary::Relu, x), {0, 0, 0, 2, 5});
  expect_values(k::unary(Unary::Square, x), {9, 1, 0, 4, 25});
  expect_values(k::unary(Unary::Round, x), {-3, -1, 0, 2, 5});
  expect_values(k::unary(Unary::Abs, x.slice(0, 0, 5, 2)), {3, 0, 5});
}

TEST(ElementwiseUnary, LogicalNotOnEveryDtype) {
  for (DType t : {kBool, kInt64, kFloat32, kFloat64}) {
    const Array y = k::unary(Unary::LogicalNot, make({3}, {0, 1, 0}, t));
    EXPECT_EQ(y.dtype(), kBool);
    expect_values(y, {1, 0, 1});
  }
  expect_values(k::unary(Unary::LogicalNot, make({2}, {-2.5, kNaN})), {0, 0});
}

TEST(ElementwiseUnary, FloatMathRejectsIntegerAndBool) {
  const Array i = make({2}, {1, 2}, kInt64);
  const Array b = make({2}, {1, 0}, kBool);
  expect_error<DTypeError>([&] { k::unary(Unary::Exp, i); }, {"exp", "int64"});
  expect_error<DTypeError>([&] { k::unary(Unary::Log, i); }, {"log", "int64"});
  expect_error<DTypeError>([&] { k::unary(Unary::Sigmoid, i); }, {"sigmoid", "int64"});
  expect_error<DTypeError>([&] { k::unary(Unary::Tanh, i); }, {"tanh", "int64"});
  expect_error<DTypeError>([&] { k::unary(Unary::Sqrt, b); }, {"sqrt", "bool"});
  expect_error<DTypeError>([&] { k::unary(Unary::Neg, b); }, {"neg", "bool"});
  expect_error<DTypeError>([&] { k::leaky_relu(i, 0.1); }, {"leaky_relu", "int64"});
  expect_error<DTypeError>([&] { k::elu(i, 1); }, {"elu", "int64"});
  expect_error<DTypeError>([&] { k::clamp(b, 0, 1); }, {"clamp", "bool"});
  expect_error<DTypeError>([&] { k::pow_scalar(b, 2); }, {"pow", "bool"});
}

TEST(ElementwiseUnary, ParameterisedActivations) {
  const Array x = make({4}, {-2, -0.5, 0, 3});
  expect_values(k::leaky_relu(x, 0.1), {-0.2, -0.05, 0, 3});
  expect_values(k::elu(x, 2), {2 * std::expm1(-2), 2 * std::expm1(-0.5), 0, 3});
  expect_values(k::elu(make({2}, {-1e-10, -1}, kFloat32), 1), {-1e-10, std::expm1(-1.0)}, 1e-6);
}

TEST(ElementwiseUnary, Clamp) {
  const Array x = make({5}, {-3, -1, 0.5, 2, kNaN});
  expect_values(k::clamp(x, -1, 1), {-1, -1, 0.5, 1, kNaN});
  expect_values(k::clamp(x, 0, kInf), {0, 0, 0.5, 2, kNaN});
  expect_values(k::clamp(x, -kInf, 0), {-3, -1, 0, 0, kNaN});
  expect_values(k::clamp(make({2}, {-5, 5}), 2, 1), {1, 1});  // low > high: high everywhere, as PyTorch
  const Array y = k::clamp(make({4}, {-3, 0, 2, 7}, kInt64), -1.5, 2.5);
  EXPECT_EQ(y.dtype(), kInt64);
  expect_values(y, {-1, 0, 2, 2});
  expect_values(k::clamp(make({2}, {-3, 7}, kInt64), -kInf, kInf), {-3, 7});
  expect_error<ValueError>([&] { k::clamp(x, kNaN, 1); }, {"clamp", "NaN"});
}

TEST(ElementwiseUnary, PowScalar) {
  const Array x = make({4}, {0.5, 1, 2, 3});
  for (double e : {0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -0.5, -2.0, 1.7, -2.3}) {
    SCOPED_TRACE(e);
    V ref;
    for (double v : values(x)) ref.push_back(std::pow(v, e));
    expect_values(k::pow_scalar(x, e), ref, 1e-14);
    expect_values(k::pow_scalar(x.to(kFloat32), e), ref, 1e-6);
  }
  expect_values(k::pow_scalar(make({3}, {-2, -1, 4}), 3), {-8, -1, 64});
  const Array i = make({4}, {-2, 0, 3, 5}, kInt64);
  const Array i3 = k::pow_scalar(i, 3);
  EXPECT_EQ(i3.dtype(), kInt64);
  expect_values(i3, {-8, 0, 27, 125});
  const Array ih = k::pow_scalar(make({2}, {4, 9}, kInt64), 0.5);  // a fractional power leaves the integers
  EXPECT_EQ(ih.dtype(), kFloat32);
  expect_values(ih, {2, 3});
  expect_error<ValueError>([&] { k::pow_scalar(i, -1); }, {"pow", "negative"});
}

// ---- binary -----------------------------------------------------------------------------------

TEST(ElementwiseBinary, ArithmeticSameShape) {
  const Array a = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat32);
  const Array b = make({2, 3}, {6, 5, 4, 3, 2, 1}, kFloat32);
  const Array s = k::binary(Binary::Add, a, b);
  EXPECT_EQ(s.dtype(), kFloat32);
  EXPECT_EQ(s.shape(), (Shape{2, 3}));
  expect_values(s, {7, 7, 7, 7, 7, 7});
  expect_values(k::binary(Binary::Sub, a, b), {-5, -3, -1, 1, 3, 5});
  expect_values(k::binary(Binary::Mul, a, b), {6, 10, 12, 12, 10, 6});
  expect_values(k::binary(Binary::Div, a, b), {1.0 / 6, 0.4, 0.75, 4.0 / 3, 2.5, 6}, 1e-7);
  expect_values(k::binary(Binary::Pow, a, b), {1, 32, 81, 64, 25, 6});
  expect_values(k::binary(Binary::Maximum, a, b), {6, 5, 4, 4, 5, 6});
  expect_values(k::binary(Binary::Minimum, a, b), {1, 2, 3, 3, 2, 1});
}

TEST(ElementwiseBinary, LongContiguousRun) {
  const Array a = iota({1000}, kFloat32, 0.5);
  const Array b = iota({1000}, kFloat32, -1, 7);
  const V y = values(k::binary(Binary::Mul, a, b));
  for (int64_t i = 0; i < 1000; ++i) {
    const double e = static_cast<float>(0.5 * i) * static_cast<double>(static_cast<float>(7.0 - i));
    ASSERT_NEAR(y[i], e, 1e-6 * std::max(1.0, std::abs(e))) << i;
  }
}

TEST(ElementwiseBinary, Comparisons) {
  const Array a = make({4}, {1, 2, 3, kNaN});
  const Array b = make({4}, {2, 2, 2, kNaN});
  const std::vector<std::pair<Binary, V>> cases = {
      {Binary::Eq, {0, 1, 0, 0}}, {Binary::Ne, {1, 0, 1, 1}}, {Binary::Lt, {1, 0, 0, 0}},
      {Binary::Le, {1, 1, 0, 0}}, {Binary::Gt, {0, 0, 1, 0}}, {Binary::Ge, {0, 1, 1, 0}},
  };
  for (const auto& [op, expected] : cases) {
    const Array y = k::binary(op, a, b);
    EXPECT_EQ(y.dtype(), kBool) << k::name(op);
    expect_values(y, expected);
  }
}

TEST(ElementwiseBinary, Logical) {
  const Array a = make({4}, {0, 0, 2.5, -1});
  const Array b = make({4}, {0, 1, 0, 3}, kInt64);
  expect_values(k::binary(Binary::LogicalAnd, a, b), {0, 0, 0, 1});
  expect_values(k::binary(Binary::LogicalOr, a, b), {0, 1, 1, 1});
  expect_values(k::binary(Binary::LogicalXor, a, b), {0, 1, 1, 0});
  EXPECT_EQ(k::binary(Binary::LogicalXor, a, b).dtype(), kBool);
}

TEST(ElementwiseBinary, MaximumMinimumPropagateNaN) {
  const Array a = make({3}, {kNaN, 1, 2});
  const Array b = make({3}, {1, kNaN, 2});
  expect_values(k::binary(Binary::Maximum, a, b), {kNaN, kNaN, 2});
  expect_values(k::binary(Binary::Minimum, a, b), {kNaN, kNaN, 2});
}

TEST(ElementwiseBinary, Broadcasting) {
  const Array a = iota({3, 4});
  const Array row = make({4}, {10, 20, 30, 40});
  const Array y = k::binary(Binary::Add, a, row);
  EXPECT_EQ(y.shape(), (Shape{3, 4}));
  expect_values(y, {10, 21, 32, 43, 14, 25, 36, 47, 18, 29, 40, 51});
  expect_values(k::binary(Binary::Sub, row, a), {10, 19, 28, 37, 6, 15, 24, 33, 2, 11, 20, 29});
  const Array col = make({3, 1}, {1, 2, 3});
  const Array r = make({1, 4}, {1, 10, 100, 1000});
  const Array outer = k::binary(Binary::Mul, col, r);
  EXPECT_EQ(outer.shape(), (Shape{3, 4}));
  expect_values(outer, {1, 10, 100, 1000, 2, 20, 200, 2000, 3, 30, 300, 3000});
  const Array s = make({}, {2});
  expect_values(k::binary(Binary::Div, a.slice(0, 0, 1), s), {0, 0.5, 1, 1.5});
  expect_values(k::binary(Binary::Div, s, make({2}, {4, 8})), {0.5, 0.25});
  EXPECT_EQ(k::binary(Binary::Add, s, s).shape(), Shape{});
  const Array y3 = k::binary(Binary::Add, make({2, 1, 3}, {0, 1, 2, 3, 4, 5}), make({4, 1}, {0, 10, 20, 30}));
  EXPECT_EQ(y3.shape(), (Shape{2, 4, 3}));
  EXPECT_DOUBLE_EQ(y3.at({1, 2, 1}), 24);
  EXPECT_EQ(k::binary(Binary::Add, Array({0, 4}, kFloat32), make({4}, {1, 2, 3, 4}, kFloat32)).shape(), (Shape{0, 4}));
}

TEST(ElementwiseBinary, DtypePromotion) {
  const Array f = make({2}, {1.5, 2}, kFloat32);
  const Array d = make({2}, {1, 2});
  const Array i = make({2}, {3, 4}, kInt64);
  const Array b = make({2}, {1, 0}, kBool);
  EXPECT_EQ(k::binary(Binary::Add, f, d).dtype(), kFloat64);
  EXPECT_EQ(k::binary(Binary::Add, i, f).dtype(), kFloat32);
  expect_values(k::binary(Binary::Add, i, f), {4.5, 6});
  EXPECT_EQ(k::binary(Binary::Mul, b, i).dtype(), kInt64);
  expect_values(k::binary(Binary::Mul, b, i), {3, 0});
  EXPECT_EQ(k::binary(Binary::Add, b, b).dtype(), kBool);
  // True division of integers gives float32, as PyTorch.
  const Array q = k::binary(Binary::Div, make({3}, {1, 7, -7}, kInt64), make({3}, {2, 2, 2}, kInt64));
  EXPECT_EQ(q.dtype(), kFloat32);
  expect_values(q, {0.5, 3.5, -3.5});
  const Array p = k::binary(Binary::Pow, make({3}, {2, -3, 5}, kInt64), make({3}, {10, 3, 0}, kInt64));
  EXPECT_EQ(p.dtype(), kInt64);
  expect_values(p, {1024, -27, 1});
  EXPECT_EQ(k::binary(Binary::Lt, i, f).dtype(), kBool);
  expect_values(k::binary(Binary::Lt, f, i), {1, 1});
}

TEST(ElementwiseBinary, StridedAndExpandedOperands) {
  const Array base = iota({4, 6});
  const Array t = base.transpose(0, 1);  // [6, 4]
  const Array c = t.contiguous();
  const Array other = iota({6, 4}, kFloat64, 0.5, 1);
  expect_values(k::binary(Binary::Mul, t, other), values(k::binary(Binary::Mul, c, other)));
  expect_values(k::binary(Binary::Sub, other, t), values(k::binary(Binary::Sub, other, c)));
  const Array s = base.slice(1, 0, 6, 3);  // [4, 2] with step 3
  expect_values(k::binary(Binary::Add, s, s), {0, 6, 12, 18, 24, 30, 36, 42});
  const Array e = make({1, 4}, {1, 2, 3, 4}).expand({6, 4});
  expect_values(k::binary(Binary::Mul, e, t), values(k::binary(Binary::Mul, make({4}, {1, 2, 3, 4}), c)));
  const Array diag = base.as_strided({4}, {7}, 0);  // 0, 7, 14, 21
  expect_values(k::binary(Binary::Add, diag, make({}, {1})), {1, 8, 15, 22});
}

// Element i of a + b, both read through at().
V sum_of(const Array& a, const Array& b) {
  V s = values(a);
  const V bv = values(b);
  for (size_t i = 0; i < s.size(); ++i) s[i] += bv[i];
  return s;
}

TEST(ElementwiseBinary, TransposedOperandsWalkedInTilesGiveEveryElement) {
  // Large enough that transposed operands are walked in tiles, with partial tiles on both edges.
  for (const auto& [n, m] : std::vector<std::pair<int64_t, int64_t>>{{300, 37}, {37, 300}, {3, 1000}}) {
    SCOPED_TRACE(std::to_string(n) + "x" + std::to_string(m));
    const Array a = random_array({n, m}, kFloat64, 1);
    const Array bt = random_array({m, n}, kFloat32, 2).transpose(0, 1);  // [n, m], column-major
    expect_values(k::binary(Binary::Add, a, bt), sum_of(a, bt), 0);
    expect_values(k::binary(Binary::Add, bt, a.transpose(0, 1).contiguous().transpose(0, 1)), sum_of(bt, a), 0);
    expect_values(bt.contiguous(), values(bt), 0);
    // Written through a transposed view: in place and by copy_.
    const Array c = random_array({m, n}, kFloat64, 3);
    const V expected = sum_of(c.transpose(0, 1), a);
    k::binary_(Binary::Add, c.transpose(0, 1), a);
    expect_values(c.transpose(0, 1), expected, 0);
    k::copy_(c.transpose(0, 1), bt);
    expect_values(c.transpose(0, 1), values(bt), 0);
  }
  // Batched: the tiled dim is not next to the innermost one.
  const Array x = random_array({4, 50, 30}, kFloat64, 4);
  for (const Array& y : {random_array({4, 30, 50}, kFloat64, 5).transpose(1, 2),
                         random_array({30, 50, 4}, kFloat64, 6).permute({2, 1, 0})}) {
    expect_values(k::binary(Binary::Sub, x, y), values(k::binary(Binary::Sub, x, y.contiguous())), 0);
    expect_values(y.contiguous(), values(y), 0);
  }
}

TEST(ElementwiseBinary, Errors) {
  expect_error<ShapeError>(
      [] {
        k::binary(Binary::Mul, Array({3, 4}, kFloat32), Array({5}, kFloat32));
      },
      {"mul: shapes [3, 4] and [5] cannot broadcast"});
  expect_error<ShapeError>([] { k::binary(Binary::Lt, Array({2}, kFloat32), Array({3}, kFloat32)); },
                           {"lt", "[2]", "[3]"});
  expect_error<DTypeError>([] { k::binary(Binary::Sub, make({1}, {1}, kBool), make({1}, {1}, kBool)); },
                           {"sub", "bool"});
}

TEST(ElementwiseBinary, Names) {
  EXPECT_EQ(k::name(Binary::Add), "add");
  EXPECT_EQ(k::name(Binary::Maximum), "maximum");
  EXPECT_EQ(k::name(Binary::Ge), "ge");
  EXPECT_EQ(k::name(Binary::LogicalXor), "logical_xor");
}

TEST(ElementwiseInPlace, BroadcastsIntoTheFirstOperand) {
  const Array a = iota({2, 3});
  const uint64_t v0 = a.version();
  k::binary_(Binary::Add, a, make({3}, {10, 20, 30}));
  expect_values(a, {10, 21, 32, 13, 24, 35});
  EXPECT_GT(a.version(), v0);
  k::binary_(Binary::Mul, a, make({}, {2}));
  expect_values(a, {20, 42, 64, 26, 48, 70});
  k::binary_(Binary::Div, a, make({2, 1}, {2, 1}, kInt64));
  expect_values(a, {10, 21, 32, 26, 48, 70});
}

TEST(ElementwiseInPlace, WritesThroughAView) {
  const Array base = iota({3, 4});
  const Array col = base.slice(1, 1, 2);  // [3, 1], stride 4
  k::binary_(Binary::Sub, col, make({1}, {100}));
  expect_values(base, {0, -99, 2, 3, 4, -95, 6, 7, 8, -91, 10, 11});
  const Array t = base.transpose(0, 1);
  k::binary_(Binary::Maximum, t, make({}, {5}));
  expect_values(base, {5, 5, 5, 5, 5, 5, 6, 7, 8, 5, 10, 11});
}

TEST(ElementwiseInPlace, AliasedOperandIsReadBeforeWritten) {
  const Array a = iota({3, 3});
  k::binary_(Binary::Add, a, a.transpose(0, 1));  // a + a^T is symmetric
  expect_values(a, {0, 4, 8, 4, 8, 12, 8, 12, 16});
  const Array b = iota({4});
  k::binary_(Binary::Mul, b, b);  // the same view is safe in place
  expect_values(b, {0, 1, 4, 9});
}

TEST(ElementwiseInPlace, KeepsDtypeAndChecks) {
  const Array f = make({2}, {1, 2}, kFloat32);
  k::binary_(Binary::Add, f, make({2}, {0.5, 0.25}));  // float64 source, float32 result
  EXPECT_EQ(f.dtype(), kFloat32);
  expect_values(f, {1.5, 2.25});
  const Array i = make({2}, {1, 2}, kInt64);
  expect_error<DTypeError>([&] { k::binary_(Binary::Add, i, make({2}, {0.5, 1})); }, {"add_", "float64", "int64"});
  expect_error<DTypeError>([&] { k::binary_(Binary::Div, i, make({2}, {2, 2}, kInt64)); }, {"div_", "float32"});
  expect_error<ShapeError>(
      [&] {
        k::binary_(Binary::Add, make({3}, {1, 2, 3}), iota({2, 3}));
      },
      {"add_", "[2, 3]", "[3]"});
  const Array c = make({3}, {1, 5, 3});
  k::binary_(Binary::Gt, c, make({}, {2}));  // comparison result stored as c's dtype
  EXPECT_EQ(c.dtype(), kFloat64);
  expect_values(c, {0, 1, 1});
}

TEST(ElementwiseScalar, ArithmeticKeepsTheArrayDtype) {
  const Array f = make({3}, {1, 2, 3}, kFloat32);
  EXPECT_EQ(k::binary_scalar(Binary::Mul, f, 2.5).dtype(), kFloat32);
  expect_values(k::binary_scalar(Binary::Mul, f, 2.5), {2.5, 5, 7.5});
  expect_values(k::binary_scalar(Binary::Sub, f, 1), {0, 1, 2});
  expect_values(k::binary_scalar(Binary::Div, f, 4), {0.25, 0.5, 0.75});
  expect_values(k::binary_scalar(Binary::Pow, f, 2), {1, 4, 9});
  expect_values(k::binary_scalar(Binary::Maximum, f, 2), {2, 2, 3});
  expect_values(k::binary_scalar(Binary::Minimum, f.transpose(0, 0), 2), {1, 2, 2});
  const Array i = make({3}, {1, 2, 3}, kInt64);
  EXPECT_EQ(k::binary_scalar(Binary::Add, i, 1).dtype(), kInt64);
  expect_values(k::binary_scalar(Binary::Add, i, 1), {2, 3, 4});
  const Array q = k::binary_scalar(Binary::Div, i, 2);  // true division
  EXPECT_EQ(q.dtype(), kFloat32);
  expect_values(q, {0.5, 1, 1.5});
}

TEST(ElementwiseScalar, ComparisonsAreExact) {
  const Array i = make({3}, {0, 1, 2}, kInt64);
  expect_values(k::binary_scalar(Binary::Lt, i, 0.5), {1, 0, 0});
  expect_values(k::binary_scalar(Binary::Ge, i, 1), {0, 1, 1});
  expect_values(k::binary_scalar(Binary::Eq, make({2}, {1, 0}, kBool), 1), {1, 0});
  const Array f = make({3}, {-1, 0, 1}, kFloat32);
  EXPECT_EQ(k::binary_scalar(Binary::Gt, f, 0).dtype(), kBool);
  expect_values(k::binary_scalar(Binary::Gt, f, 0), {0, 0, 1});
  expect_values(k::binary_scalar(Binary::Ne, f, 0), {1, 0, 1});
  expect_values(k::binary_scalar(Binary::LogicalAnd, f, 1), {1, 0, 1});
  expect_values(k::binary_scalar(Binary::LogicalOr, f, 0), {1, 0, 1});
}

TEST(ElementwiseScalar, StridedInput) {
  const Array x = iota({3, 4}).transpose(0, 1);
  expect_values(k::binary_scalar(Binary::Add, x, 1), {1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12});
}

TEST(ElementwiseWhere, SelectsAndBroadcasts) {
  const Array cond = make({2, 1}, {1, 0}, kBool);
  const Array a = make({3}, {1, 2, 3});
  const Array b = make({}, {-1}, kFloat32);
  const Array y = k::where(cond, a, b);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(y.dtype(), kFloat64);
  expect_values(y, {1, 2, 3, -1, -1, -1});
  const Array c2 = make({3}, {0, 1, 0}, kBool);
  expect_values(k::where(c2, a, make({3}, {9, 8, 7})), {9, 2, 7});
  const Array t = iota({2, 2}).transpose(0, 1);
  expect_values(k::where(make({2, 2}, {1, 0, 0, 1}, kBool), t, iota({2, 2}, kFloat64, -1)), {0, -1, -2, 3});
  expect_error<DTypeError>([&] { k::where(a, a, a); }, {"where", "bool", "float64"});
  expect_error<ShapeError>([&] { k::where(cond, a, make({2}, {1, 2})); }, {"where"});
}

TEST(ElementwiseMaskedFill, FillsWhereTheMaskHolds) {
  const Array x = iota({2, 3});
  const Array y = k::masked_fill(x, make({3}, {1, 0, 1}, kBool), -5);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  expect_values(y, {-5, 1, -5, -5, 4, -5});
  expect_values(x, {0, 1, 2, 3, 4, 5});  // out of place
  const Array i = k::masked_fill(make({2}, {7, 8}, kInt64), make({2}, {0, 1}, kBool), 3);
  EXPECT_EQ(i.dtype(), kInt64);
  expect_values(i, {7, 3});
  expect_values(k::masked_fill(x.transpose(0, 1), make({3, 1}, {0, 1, 0}, kBool), kInf), {0, 3, kInf, kInf, 2, 5});
  expect_error<DTypeError>([&] { k::masked_fill(x, x, 0); }, {"masked_fill", "bool", "float64"});
  expect_error<ShapeError>([&] { k::masked_fill(x, make({2}, {1, 0}, kBool), 0); }, {"masked_fill", "[2, 3]", "[2]"});
}

TEST(ElementwiseMulMask, GradientTimesComparison) {
  const Array g = make({4}, {1, 2, 3, 4}, kFloat32);
  const Array x = make({4}, {-1, 0, 0.5, 2}, kFloat32);
  const Array y = k::mul_mask(g, x, Binary::Gt, 0);
  EXPECT_EQ(y.dtype(), kFloat32);
  expect_values(y, {0, 0, 3, 4});
  expect_values(k::mul_mask(g, x, Binary::Le, 0.5), {1, 2, 3, 0});
  expect_values(k::mul_mask(make({2, 1}, {1, 10}), x, Binary::Ge, 0), {0, 1, 1, 1, 0, 10, 10, 10});
  expect_values(k::mul_mask(g, make({4}, {-1, 0, 1, 2}, kInt64), Binary::Ne, 1), {1, 2, 0, 4});
  expect_error<ValueError>([&] { k::mul_mask(g, x, Binary::Add, 0); }, {"mul_mask", "add"});
}

TEST(ElementwiseNonfinite, FindsNaNAndInf) {
  EXPECT_FALSE(k::has_nonfinite(iota({100}, kFloat32)));
  EXPECT_TRUE(k::has_nonfinite(make({3}, {1, kNaN, 2})));
  EXPECT_TRUE(k::has_nonfinite(make({3}, {1, 2, -kInf}, kFloat32)));
  EXPECT_FALSE(k::has_nonfinite(make({2}, {1, 2}, kInt64)));
  EXPECT_FALSE(k::has_nonfinite(make({2}, {1e308, -1e308})));
  const Array x = make({2, 2}, {1, kInf, 2, 3});
  EXPECT_FALSE(k::has_nonfinite(x.slice(1, 0, 1)));
  EXPECT_TRUE(k::has_nonfinite(x.transpose(0, 1)));
  EXPECT_FALSE(k::has_nonfinite(Array({0}, kFloat32)));
}

}  // namespace
}  // namespace xgrad
