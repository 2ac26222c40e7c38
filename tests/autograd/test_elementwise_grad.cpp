// Gradients of elementwise ops: gradient-table rows for every op of the "elementwise" sections of
// ops.def (checked to first and second order by test_gradcheck_all), with broadcast, 0-d and
// scalar-operand variants; and closed forms the table cannot see (d tanh = 1 - y^2, d sigmoid =
// s (1 - s), d exp = exp), tie splitting, dtype rules, node names and what records no node.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/grad_cases.hpp"

namespace xgrad {
namespace {

using namespace xgrad::testing;

// ---- gradient table: unary ----------------------------------------------------------------------
XGRAD_GRAD_CASE(
    ew_neg, "neg", {{3, 4}}, [](const Inputs& x) { return neg(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_neg_operator, "neg", {{5}}, [](const Inputs& x) { return -x[0] * x[0]; }, Domain::Any);
XGRAD_GRAD_CASE(ew_abs, "abs", {{3, 4}}, [](const Inputs& x) { return abs(x[0]); });
XGRAD_GRAD_CASE(ew_abs_times_x, "abs", {{6}}, [](const Inputs& x) { return abs(x[0]) * x[0]; });
XGRAD_GRAD_CASE(ew_sign, "sign", {{3, 4}}, [](const Inputs& x) { return sign(x[0]); });
XGRAD_GRAD_CASE(ew_sign_times_square, "sign", {{5}}, [](const Inputs& x) { return sign(x[0]) * square(x[0]); });
XGRAD_GRAD_CASE(
    ew_exp, "exp", {{3, 4}}, [](const Inputs& x) { return exp(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_exp_scalar_tensor, "exp", {{}}, [](const Inputs& x) { return exp(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_log, "log", {{3, 4}}, [](const Inputs& x) { return log(x[0]); }, Domain::Positive);
XGRAD_GRAD_CASE(
    ew_log1p, "log1p", {{3, 4}}, [](const Inputs& x) { return log1p(x[0]); }, Domain::Unit);
XGRAD_GRAD_CASE(
    ew_sqrt, "sqrt", {{3, 4}}, [](const Inputs& x) { return sqrt(x[0]); }, Domain::Positive);
XGRAD_GRAD_CASE(
    ew_rsqrt, "rsqrt", {{3, 4}}, [](const Inputs& x) { return rsqrt(x[0]); }, Domain::Positive);
XGRAD_GRAD_CASE(
    ew_sin, "sin", {{3, 4}}, [](const Inputs& x) { return sin(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_cos, "cos", {{3, 4}}, [](const Inputs& x) { return cos(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_tanh, "tanh", {{3, 4}}, [](const Inputs& x) { return tanh(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_sigmoid, "sigmoid", {{3, 4}}, [](const Inputs& x) { return sigmoid(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(ew_relu, "relu", {{3, 4}}, [](const Inputs& x) { return relu(x[0]); });
XGRAD_GRAD_CASE(ew_relu_squared, "relu", {{6}}, [](const Inputs& x) { return square(relu(x[0])); });
XGRAD_GRAD_CASE(ew_leaky_relu, "leaky_relu", {{3, 4}}, [](const Inputs& x) { return leaky_relu(x[0], 0.1); });
XGRAD_GRAD_CASE(ew_leaky_relu_times_x, "leaky_relu", {{6}},
                [](const Inputs& x) { return leaky_relu(x[0], 0.2) * x[0]; });
XGRAD_GRAD_CASE(ew_elu, "elu", {{3, 4}}, [](const Inputs& x) { return elu(x[0]); });
XGRAD_GRAD_CASE(ew_elu_alpha, "elu", {{3, 4}}, [](const Inputs& x) { return elu(x[0], 0.5); });
XGRAD_GRAD_CASE(
    ew_gelu, "gelu", {{3, 4}}, [](const Inputs& x) { return gelu(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_gelu_tanh, "gelu", {{3, 4}}, [](const Inputs& x) { return gelu(x[0], GeluApproximate::Tanh); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_silu, "silu", {{3, 4}}, [](const Inputs& x) { return silu(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_softplus, "softplus", {{3, 4}}, [](const Inputs& x) { return softplus(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_softplus_beta, "softplus", {{3, 4}}, [](const Inputs& x) { return softplus(x[0], 2.0, 3.0); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_softplus_linear_region, "softplus", {{3, 4}}, [](const Inputs& x) { return softplus(x[0] * 20.0 + 50.0); },
    Domain::Unit);
XGRAD_GRAD_CASE(
    ew_square, "square", {{3, 4}}, [](const Inputs& x) { return square(x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(ew_reciprocal, "reciprocal", {{3, 4}}, [](const Inputs& x) { return reciprocal(x[0]); });
XGRAD_GRAD_CASE(ew_clamp, "clamp", {{3, 4}}, [](const Inputs& x) { return clamp(x[0], -0.8, 0.9); });
XGRAD_GRAD_CASE(ew_clamp_min, "clamp", {{3, 4}}, [](const Inputs& x) { return clamp_min(x[0], 0.1); });
XGRAD_GRAD_CASE(ew_clamp_max_squared, "clamp", {{3, 4}}, [](const Inputs& x) { return square(clamp_max(x[0], -0.1)); });
XGRAD_GRAD_CASE(
    ew_pow_scalar_cube, "pow_scalar", {{3, 4}}, [](const Inputs& x) { return pow(x[0], 3.0); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_pow_scalar_square, "pow_scalar", {{5}}, [](const Inputs& x) { return pow(x[0], 2.0); }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_pow_scalar_fractional, "pow_scalar", {{3, 4}}, [](const Inputs& x) { return pow(x[0], 2.5); }, Domain::Positive);
XGRAD_GRAD_CASE(
    ew_pow_scalar_negative, "pow_scalar", {{3, 4}}, [](const Inputs& x) { return pow(x[0], -1.5); }, Domain::Positive);
XGRAD_GRAD_CASE(
    ew_pow_scalar_one_and_zero, "pow_scalar", {{4}}, [](const Inputs& x) { return pow(x[0], 1.0) + pow(x[0], 0.0); },
    Domain::Any);

// ---- gradient table: binary ---------------------------------------------------------------------
auto add_fn = [](const Inputs& x) { return x[0] + x[1]; };
auto sub_fn = [](const Inputs& x) { return x[0] - x[1]; };
auto mul_fn = [](const Inputs& x) { return x[0] * x[1]; };
auto div_fn = [](const Inputs& x) { return x[0] / x[1]; };
auto pow_fn = [](const Inputs& x) { return pow(x[0], x[1]); };
auto max_fn = [](const Inputs& x) { return maximum(x[0], x[1]); };
auto min_fn = [](const Inputs& x) { return minimum(x[0], x[1]); };

XGRAD_GRAD_CASE(ew_add, "add", {{3, 4}, {3, 4}}, add_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_add_row, "add", {{3, 4}, {4}}, add_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_add_outer, "add", {{3, 1}, {1, 4}}, add_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_add_scalar_tensor, "add", {{}, {2, 3}}, add_fn, Domain::Any);
XGRAD_GRAD_CASE(
    ew_add_scalar, "add", {{3, 4}}, [](const Inputs& x) { return (x[0] + 2.0) * (1.5 + x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(ew_sub, "sub", {{3, 4}, {3, 4}}, sub_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_sub_row, "sub", {{4}, {3, 4}}, sub_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_sub_outer, "sub", {{3, 1}, {1, 4}}, sub_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_sub_scalar_tensor, "sub", {{2, 3}, {}}, sub_fn, Domain::Any);
XGRAD_GRAD_CASE(
    ew_sub_scalar, "sub", {{3, 4}}, [](const Inputs& x) { return (x[0] - 2.0) * (1.5 - x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(ew_mul, "mul", {{3, 4}, {3, 4}}, mul_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_mul_row, "mul", {{3, 4}, {4}}, mul_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_mul_outer, "mul", {{3, 1}, {1, 4}}, mul_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_mul_scalar_tensor, "mul", {{}, {2, 3}}, mul_fn, Domain::Any);
XGRAD_GRAD_CASE(
    ew_mul_self, "mul", {{5}}, [](const Inputs& x) { return x[0] * x[0]; }, Domain::Any);
XGRAD_GRAD_CASE(
    ew_mul_scalar, "mul", {{3, 4}}, [](const Inputs& x) { return (x[0] * 2.5) * (-0.5 * x[0]); }, Domain::Any);
XGRAD_GRAD_CASE(ew_div, "div", {{3, 4}, {3, 4}}, div_fn);
XGRAD_GRAD_CASE(ew_div_row, "div", {{3, 4}, {4}}, div_fn);
XGRAD_GRAD_CASE(ew_div_outer, "div", {{3, 1}, {1, 4}}, div_fn);
XGRAD_GRAD_CASE(ew_div_scalar_tensor, "div", {{}, {2, 3}}, div_fn);
XGRAD_GRAD_CASE(ew_div_scalar, "div", {{3, 4}},
                [](const Inputs& x) { return (x[0] / 4.0) * (2.0 / x[0]) + 1.0 / x[0]; });
XGRAD_GRAD_CASE(ew_pow, "pow", {{3, 4}, {3, 4}}, pow_fn, Domain::Positive);
XGRAD_GRAD_CASE(ew_pow_row, "pow", {{3, 4}, {4}}, pow_fn, Domain::Positive);
XGRAD_GRAD_CASE(ew_pow_outer, "pow", {{3, 1}, {1, 4}}, pow_fn, Domain::Positive);
XGRAD_GRAD_CASE(ew_pow_scalar_tensor_exponent, "pow", {{2, 3}, {}}, pow_fn, Domain::Positive);
XGRAD_GRAD_CASE(ew_maximum, "maximum", {{3, 4}, {3, 4}}, max_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_maximum_row, "maximum", {{3, 4}, {4}}, max_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_maximum_outer, "maximum", {{3, 1}, {1, 4}}, max_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_maximum_scalar_tensor, "maximum", {{}, {2, 3}}, max_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_minimum, "minimum", {{3, 4}, {3, 4}}, min_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_minimum_row, "minimum", {{4}, {3, 4}}, min_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_minimum_outer, "minimum", {{3, 1}, {1, 4}}, min_fn, Domain::Any);
XGRAD_GRAD_CASE(ew_where, "where", {{3, 4}, {3, 4}, {3, 4}},
                [](const Inputs& x) { return where(x[0] > 0.0, x[1], x[2]); });
XGRAD_GRAD_CASE(ew_where_broadcast, "where", {{3, 1}, {4}, {3, 4}},
                [](const Inputs& x) { return where(x[0] > 0.0, x[1], x[2]); });
XGRAD_GRAD_CASE(ew_where_scalar_branch, "where", {{2, 3}, {}},
                [](const Inputs& x) { return where(x[0] > 0.0, x[0] * x[0], x[1]); });
XGRAD_GRAD_CASE(ew_masked_fill, "masked_fill", {{3, 4}},
                [](const Inputs& x) { return masked_fill(x[0], x[0] < 0.0, 0.5) * x[0]; });
XGRAD_GRAD_CASE(ew_masked_fill_broadcast_mask, "masked_fill", {{3, 4}, {4}},
                [](const Inputs& x) { return masked_fill(x[0], x[1] > 0.0, -1.0); });
XGRAD_GRAD_CASE(ew_masked_fill_mask_wider, "masked_fill", {{4}, {3, 4}},
                [](const Inputs& x) { return masked_fill(x[0], x[1] > 0.0, 2.0); });

// ---- closed forms -------------------------------------------------------------------------------

// d(sum f(x))/dx, first order.
Tensor grad_of(Tensor (*f)(const Tensor&), const Tensor& x) { return grad({sum(f(x))}, {x})[0]; }

TEST(ElementwiseGrad, TanhIsOneMinusYSquared) {
  const Tensor x = leaf({-2, -0.5, 0, 0.7, 3});
  const std::vector<double> y = tanh(x).to_vector<double>();
  std::vector<double> expected;
  for (double v : y) expected.push_back(1 - v * v);
  expect_near(grad_of(tanh, x), expected);
}

TEST(ElementwiseGrad, SigmoidIsSTimesOneMinusS) {
  const Tensor x = leaf({-4, -1, 0, 1, 4});
  std::vector<double> expected;
  for (double v : sigmoid(x).to_vector<double>()) expected.push_back(v * (1 - v));
  expect_near(grad_of(sigmoid, x), expected);
  EXPECT_NEAR(grad_of(sigmoid, leaf({0})).item(), 0.25, 1e-15);
}

TEST(ElementwiseGrad, ExpIsItself) {
  const Tensor x = leaf({-3, 0, 1, 2.5});
  expect_near(grad_of(exp, x), exp(x).to_vector<double>());
}

TEST(ElementwiseGrad, SecondDerivativeOfTanh) {
  const Tensor x = leaf({-1.5, 0.2, 1});
  const Tensor dx = grad({sum(tanh(x))}, {x}, {}, true, true)[0];
  const Tensor d2x = grad({sum(dx)}, {x})[0];
  std::vector<double> expected;
  for (double v : tanh(x).to_vector<double>()) expected.push_back(-2 * v * (1 - v * v));
  expect_near(d2x, expected);
}

TEST(ElementwiseGrad, ReluMaskAndGeluAtZero) {
  expect_near(grad_of(relu, leaf({-1, 0.5, 2, -0.1})), {0, 1, 1, 0});
  expect_near(grad_of([](const Tensor& t) { return gelu(t); }, leaf({0})), {0.5});
  expect_near(grad_of([](const Tensor& t) { return gelu(t, GeluApproximate::Tanh); }, leaf({0})), {0.5});
  expect_near(grad_of(silu, leaf({0})), {0.5});
  expect_near(grad_of(abs, leaf({-2, 3})), {-1, 1});
  expect_near(grad_of(sign, leaf({-2, 3})), {0, 0});
}

TEST(ElementwiseGrad, MaximumAndMinimumSplitTies) {
  const Tensor a = leaf({1, 2, 3});
  const Tensor b = leaf({3, 2, 1});
  const std::vector<Tensor> gmax = grad({sum(maximum(a, b))}, {a, b});
  expect_near(gmax[0], {0, 0.5, 1});
  expect_near(gmax[1], {1, 0.5, 0});
  const std::vector<Tensor> gmin = grad({sum(minimum(a, b))}, {a, b});
  expect_near(gmin[0], {1, 0.5, 0});
  expect_near(gmin[1], {0, 0.5, 1});
}

TEST(ElementwiseGrad, BroadcastGradientsHaveTheInputShapes) {
  const Tensor a = randn({3, 4}, {.dtype = kFloat64}).requires_grad_();
  const Tensor b = randn({4}, {.dtype = kFloat64}).requires_grad_();
  const std::vector<Tensor> g = grad({sum(a * b)}, {a, b});
  EXPECT_EQ(g[0].shape(), (Shape{3, 4}));
  EXPECT_EQ(g[1].shape(), Shape{4});
  expect_near(g[1], sum(a, {0}).to_vector<double>());
}

TEST(ElementwiseGrad, MixedDtypesGiveGradientsInEachInputsDtype) {
  const Tensor a = ones({3}, {.dtype = kFloat32, .requires_grad = true});
  const Tensor b = full({3}, 2.0, {.dtype = kFloat64, .requires_grad = true});
  const Tensor y = a * b;
  EXPECT_EQ(y.dtype(), kFloat64);
  const std::vector<Tensor> g = grad({sum(y)}, {a, b});
  EXPECT_EQ(g[0].dtype(), kFloat32);
  EXPECT_EQ(g[1].dtype(), kFloat64);
  expect_near(g[0], {2, 2, 2});
  expect_near(g[1], {1, 1, 1});
}

// ---- results written into a dying temporary --------------------------------------------------

TEST(TemporaryReuse, AddAndReluWriteIntoTheTemporaryTheyConsume) {
  const Tensor a = leaf({1, -2, 3}), b = leaf({2, 2, -1}), c = leaf({0.5, 0.5, 0.5});
  Tensor product = a * b;
  const void* buffer = product.array().raw_data();
  Tensor shifted = std::move(product) + c;  // 2.5, -3.5, -2.5
  EXPECT_FALSE(product.defined());          // the moved-from temporary let go of its buffer
  EXPECT_EQ(shifted.array().raw_data(), buffer);
  const Tensor y = relu(std::move(shifted));
  EXPECT_EQ(y.array().raw_data(), buffer);
  expect_near(y, {2.5, 0, 0});
  y.sum().backward();
  expect_near(a.grad(), {2, 0, 0});
  expect_near(b.grad(), {1, 0, 0});
  expect_near(c.grad(), {1, 0, 0});
  // The usual one-line form takes the same path, with the same values.
  EXPECT_EQ(relu(a * b + c).to_vector<double>(), (std::vector<double>{2.5, 0, 0}));
  expect_near(relu(a * b - c), {1.5, 0, 0});
}

TEST(TemporaryReuse, ATemporaryWhoseValueIsSavedIsLeftAlone) {
  // exp saves its output for backward: writing exp(x) + c into it would corrupt d exp = exp.
  const Tensor x = leaf({0.0, 1.0}), c = leaf({10.0, 20.0});
  Tensor e = exp(x);
  const void* buffer = e.array().raw_data();
  const Tensor y = std::move(e) + c;
  EXPECT_NE(y.array().raw_data(), buffer);
  y.sum().backward();
  expect_near(x.grad(), {1.0, std::exp(1.0)});
  // Nor is a view, nor a temporary whose result would need another dtype or shape.
  const Tensor base = tensor({1.0, 2.0, 3.0, 4.0});
  expect_near(base.view({2, 2}) + tensor({1.0, 1.0}), {2, 3, 4, 5});
  expect_near(base, {1, 2, 3, 4});
  const Tensor wider = ones({2}, {.dtype = kFloat32}) + full({2}, 0.5, {.dtype = kFloat64});
  EXPECT_EQ(wider.dtype(), kFloat64);
  expect_near(wider, {1.5, 1.5});
  expect_near(tensor({1.0}) + tensor({1.0, 2.0}), {2, 3});
}

TEST(TemporaryReuse, ABroadcastOperandStillReuses) {
  const Tensor x = tensor({{1.0, 2.0}, {3.0, 4.0}}), bias = leaf({10, 20});
  Tensor product = matmul(x, tensor({{1.0, 0.0}, {0.0, 1.0}}));
  const void* buffer = product.array().raw_data();
  const Tensor y = std::move(product) + bias;
  EXPECT_EQ(y.array().raw_data(), buffer);
  expect_near(y, {11, 22, 13, 24});
  y.sum().backward();
  expect_near(bias.grad(), {2, 2});
}

TEST(ElementwiseGrad, WhereAndMaskedFillRouteTheGradient) {
  const Tensor a = leaf({1, 2, 3});
  const Tensor b = leaf({4, 5, 6});
  const Tensor cond = tensor<double>({1, 0, 1}) > 0.5;
  const std::vector<Tensor> g = grad({sum(where(cond, a, b))}, {a, b});
  expect_near(g[0], {1, 0, 1});
  expect_near(g[1], {0, 1, 0});
  expect_near(grad({sum(masked_fill(a, cond, 9.0))}, {a})[0], {0, 1, 0});
}

TEST(ElementwiseGrad, ScalarOperandsNeedNoTensorAndKeepDtype) {
  const Tensor x = ones({2}, {.dtype = kFloat32, .requires_grad = true});
  const Tensor y = x * 3.0;
  EXPECT_EQ(y.dtype(), kFloat32);
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->name(), "mul");
  EXPECT_EQ(y.grad_fn()->next().size(), 1u);  // one input: the scalar is no tensor
  expect_near(grad({sum(y)}, {x})[0], {3, 3});
  expect_near(grad({sum(1.0 - x)}, {x})[0], {-1, -1});
  expect_near(grad({sum(2.0 / (x * 2.0))}, {x})[0], {-1, -1});
  expect_near(grad({sum(x / 4.0)}, {x})[0], {0.25, 0.25});
}

TEST(ElementwiseGrad, IntegerTensorsPromoteWithFractionalScalars) {
  const Tensor i = tensor({1, 2, 3});
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_EQ((i + 1.0).dtype(), kInt64);
  const Tensor f = i + 0.5;
  EXPECT_EQ(f.dtype(), kFloat32);
  expect_near(f, {1.5, 2.5, 3.5});
  EXPECT_EQ((i * 2.5).dtype(), kFloat32);
  EXPECT_EQ((i / 2.0).dtype(), kFloat32);  // true division
  expect_near(i / 2.0, {0.5, 1, 1.5});
  expect_near(1.0 - i, {0, -1, -2});
  EXPECT_EQ((0.5 - i).dtype(), kFloat32);
  EXPECT_EQ(clamp(i, 0.5, 2.5).dtype(), kFloat32);
  EXPECT_EQ(clamp(i, 0, 2).dtype(), kInt64);
  EXPECT_EQ(neg(i).dtype(), kInt64);
  EXPECT_EQ(pow(i, 2.0).dtype(), kInt64);
}

TEST(ElementwiseGrad, RecordedNamesMatchOpsDef) {
  const Tensor x = leaf({0.5, 1.5});
  EXPECT_EQ(pow(x, 2.0).grad_fn()->name(), "pow_scalar");
  EXPECT_EQ(pow(x, x).grad_fn()->name(), "pow");
  EXPECT_EQ(clamp_min(x, 0.0).grad_fn()->name(), "clamp");
  EXPECT_EQ(clamp_max(x, 1.0).grad_fn()->name(), "clamp");
  EXPECT_EQ(gelu(x).grad_fn()->name(), "gelu");
  EXPECT_EQ(gelu(x, GeluApproximate::Tanh).grad_fn()->name(), "gelu");
  EXPECT_EQ(sign(x).grad_fn()->name(), "sign");
  EXPECT_EQ((x + 1.0).grad_fn()->name(), "add");
  EXPECT_EQ((1.0 / x).grad_fn()->name(), "div");
}

TEST(ElementwiseGrad, ComparisonsAndLogicRecordNothing) {
  const Tensor x = leaf({-1, 0, 2});
  for (const Tensor& t : {x > 0.0, x < x, x == x, x != 0.0, x >= x, x <= 1.0, logical_not(x > 0.0),
                          logical_and(x > 0.0, x < 1.0), logical_or(x > 0.0, x < 1.0), logical_xor(x > 0.0, x < 1.0),
                          eq(x, x), ne(x, x), lt(x, x), le(x, x), gt(x, x), ge(x, x)}) {
    EXPECT_EQ(t.dtype(), kBool);
    EXPECT_FALSE(t.requires_grad());
    EXPECT_FALSE(t.grad_fn());
  }
  expect_near((x > 0.0).to(kFloat64), {0, 0, 1});
}

TEST(ElementwiseGrad, SoftplusMatchesPyTorch) {
  const Tensor x = leaf({-30, -1, 0, 1, 25});
  const std::vector<double> y = softplus(x).to_vector<double>();
  EXPECT_NEAR(y[2], std::log(2.0), 1e-15);
  EXPECT_EQ(y[4], 25.0);  // linear above the threshold
  EXPECT_NEAR(y[0], std::exp(-30.0), 1e-25);
  const std::vector<double> yb = softplus(x, 2.0, 1.0).to_vector<double>();
  EXPECT_NEAR(yb[1], std::log1p(std::exp(-2.0)) / 2, 1e-15);
  EXPECT_EQ(yb[3], 1.0);  // 2 * 1 > 1: linear
  expect_near(grad({sum(softplus(x, 2.0, 1.0))}, {x})[0],
              {1 / (1 + std::exp(60.0)), 1 / (1 + std::exp(2.0)), 0.5, 1, 1}, 1e-15);
}

TEST(ElementwiseGrad, ErrorsNameTheOp) {
  const Tensor i = tensor({1, 2});
  EXPECT_THROW(exp(i), DTypeError);
  try {
    sigmoid(i);
    ADD_FAILURE() << "no exception";
  } catch (const DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("sigmoid"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("int64"), std::string::npos) << e.what();
  }
  try {
    zeros({3, 4}) * zeros({5});
    ADD_FAILURE() << "no exception";
  } catch (const ShapeError& e) {
    EXPECT_EQ(std::string(e.what()), "mul: shapes [3, 4] and [5] cannot broadcast");
  }
  EXPECT_THROW(where(zeros({2}), zeros({2}), zeros({2})), DTypeError);
  EXPECT_THROW(masked_fill(zeros({2}), zeros({2}), 1.0), DTypeError);
}

}  // namespace
}  // namespace xgrad
