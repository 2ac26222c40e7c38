// Gradients of reductions and softmax: gradient-table rows for every op of the "reductions"
// section of ops.def (checked to first and second order by test_gradcheck_all), and closed forms
// the table cannot see: d mean = 1/n, zeros in prod, ties in max, softmax's Jacobian, names.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/grad_cases.hpp"

namespace xgrad {
namespace {

using namespace xgrad::testing;

// ---- gradient table -------------------------------------------------------------------------------
XGRAD_GRAD_CASE(sum_all, "sum", {{3, 4}}, [](const Inputs& x) { return sum(x[0]); });
XGRAD_GRAD_CASE(sum_dim0, "sum", {{3, 4}}, [](const Inputs& x) { return sum(x[0], {0}); });
XGRAD_GRAD_CASE(sum_dim_neg_keepdim, "sum", {{3, 4}}, [](const Inputs& x) { return sum(x[0], {-1}, true); });
XGRAD_GRAD_CASE(sum_outer_dims_squared, "sum", {{2, 3, 4}}, [](const Inputs& x) {
  const Tensor s = sum(x[0], {0, 2});
  return s * s;
});
XGRAD_GRAD_CASE(sum_all_keepdim_times_x, "sum", {{2, 3}}, [](const Inputs& x) { return sum(x[0], {}, true) * x[0]; });
XGRAD_GRAD_CASE(sum_to_leading_and_inner, "sum_to", {{2, 3, 4}}, [](const Inputs& x) {
  const Tensor s = sum_to(x[0], {3, 1});
  return s * s;
});
XGRAD_GRAD_CASE(sum_to_trailing, "sum_to", {{3, 4}}, [](const Inputs& x) { return sum_to(x[0], {4}); });
XGRAD_GRAD_CASE(mean_all, "mean", {{3, 4}}, [](const Inputs& x) { return mean(x[0]); });
XGRAD_GRAD_CASE(mean_dim1, "mean", {{3, 4}}, [](const Inputs& x) { return mean(x[0], {1}); });
XGRAD_GRAD_CASE(mean_two_dims_keepdim_squared, "mean", {{2, 3, 4}}, [](const Inputs& x) {
  const Tensor m = mean(x[0], {0, -1}, true);
  return m * m * x[0];
});
XGRAD_GRAD_CASE(prod_all, "prod", {{2, 3}}, [](const Inputs& x) { return prod(x[0]); });
XGRAD_GRAD_CASE(prod_dim1, "prod", {{3, 4}}, [](const Inputs& x) { return prod(x[0], {1}); });
XGRAD_GRAD_CASE(prod_dim0_keepdim, "prod", {{3, 2}}, [](const Inputs& x) { return prod(x[0], {0}, true) * x[0]; });
XGRAD_GRAD_CASE(amax_all, "amax", {{3, 4}}, [](const Inputs& x) { return max(x[0]); });
XGRAD_GRAD_CASE(amax_dim1, "amax", {{3, 4}}, [](const Inputs& x) { return amax(x[0], {1}); });
XGRAD_GRAD_CASE(amax_two_dims_keepdim, "amax", {{2, 3, 4}}, [](const Inputs& x) { return amax(x[0], {0, 2}, true); });
XGRAD_GRAD_CASE(amin_all, "amin", {{3, 4}}, [](const Inputs& x) { return min(x[0]); });
XGRAD_GRAD_CASE(amin_dim0_keepdim, "amin", {{3, 4}}, [](const Inputs& x) { return amin(x[0], {0}, true); });
XGRAD_GRAD_CASE(max_dim1, "max_dim", {{3, 4}}, [](const Inputs& x) { return max(x[0], 1).values; });
XGRAD_GRAD_CASE(max_dim0_keepdim_squared, "max_dim", {{3, 4}}, [](const Inputs& x) {
  const Tensor v = max(x[0], 0, true).values;
  return v * v;
});
XGRAD_GRAD_CASE(max_dim_middle_3d, "max_dim", {{2, 3, 4}}, [](const Inputs& x) { return max(x[0], -2).values; });
XGRAD_GRAD_CASE(min_dim1, "min_dim", {{3, 4}}, [](const Inputs& x) { return min(x[0], 1).values; });
XGRAD_GRAD_CASE(min_dim0_keepdim, "min_dim", {{3, 4}}, [](const Inputs& x) { return min(x[0], 0, true).values; });
XGRAD_GRAD_CASE(var_all_unbiased, "var", {{3, 4}}, [](const Inputs& x) { return var(x[0]); });
XGRAD_GRAD_CASE(var_dim1_biased, "var", {{3, 4}}, [](const Inputs& x) { return var(x[0], {1}, 0); });
XGRAD_GRAD_CASE(var_two_dims_keepdim, "var", {{2, 3, 4}}, [](const Inputs& x) { return var(x[0], {0, 2}, 1, true); });
XGRAD_GRAD_CASE(std_dim0, "var", {{4, 3}}, [](const Inputs& x) { return std(x[0], {0}); });
XGRAD_GRAD_CASE(
    logsumexp_dim1, "logsumexp", {{3, 4}}, [](const Inputs& x) { return logsumexp(x[0], {1}); }, Domain::Any);
XGRAD_GRAD_CASE(
    logsumexp_all_keepdim, "logsumexp", {{2, 3}},
    [](const Inputs& x) {
      return logsumexp(x[0], {0, 1}, true) * x[0];
    },
    Domain::Any);
XGRAD_GRAD_CASE(
    logsumexp_dim0_3d, "logsumexp", {{3, 2, 2}}, [](const Inputs& x) { return logsumexp(x[0], {0}); }, Domain::Any);
XGRAD_GRAD_CASE(norm_p2_all, "norm", {{3, 4}}, [](const Inputs& x) { return norm(x[0]); });
XGRAD_GRAD_CASE(norm_p2_two_dims, "norm", {{2, 3, 4}}, [](const Inputs& x) { return norm(x[0], 2.0, {0, 2}); });
XGRAD_GRAD_CASE(norm_p1_dim1, "norm", {{3, 4}}, [](const Inputs& x) { return norm(x[0], 1.0, {1}); });
XGRAD_GRAD_CASE(norm_p3_dim0_keepdim, "norm", {{3, 4}}, [](const Inputs& x) { return norm(x[0], 3.0, {0}, true); });
XGRAD_GRAD_CASE(norm_p_half_all, "norm", {{5}}, [](const Inputs& x) { return norm(x[0], 0.5); });
XGRAD_GRAD_CASE(norm_inf_dim1, "norm", {{3, 4}}, [](const Inputs& x) { return norm(x[0], kInf, {1}); });
XGRAD_GRAD_CASE(
    softmax_dim1, "softmax", {{3, 4}}, [](const Inputs& x) { return softmax(x[0], 1); }, Domain::Any);
XGRAD_GRAD_CASE(
    softmax_dim0_weighted, "softmax", {{3, 4}, {3, 4}}, [](const Inputs& x) { return softmax(x[0], 0) * x[1]; },
    Domain::Any);
XGRAD_GRAD_CASE(
    softmax_middle_3d, "softmax", {{2, 3, 2}}, [](const Inputs& x) { return softmax(x[0], -2); }, Domain::Any);
XGRAD_GRAD_CASE(
    log_softmax_dim1, "log_softmax", {{3, 4}}, [](const Inputs& x) { return log_softmax(x[0], 1); }, Domain::Any);
XGRAD_GRAD_CASE(
    log_softmax_dim0_weighted, "log_softmax", {{3, 4}, {3, 4}},
    [](const Inputs& x) { return log_softmax(x[0], 0) * x[1]; }, Domain::Any);
XGRAD_GRAD_CASE(
    log_softmax_3d_last, "log_softmax", {{2, 2, 3}}, [](const Inputs& x) { return log_softmax(x[0], -1); },
    Domain::Any);

// ---- closed forms ---------------------------------------------------------------------------------

TEST(ReduceGrad, MeanGradientIsOneOverN) {
  const Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  mean(x).backward();
  expect_near(x.grad(), std::vector<double>(6, 1.0 / 6));
  const Tensor z = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  mean(z, {1}).backward(ones({2}, {.dtype = kFloat64}));
  expect_near(z.grad(), std::vector<double>(6, 1.0 / 3));
}

TEST(ReduceGrad, SumGradientBroadcastsDy) {
  const Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  sum(x, {0}).backward(tensor(std::vector<double>{1, 2, 3}, {3}));
  expect_near(x.grad(), {1, 2, 3, 1, 2, 3});
  EXPECT_EQ(x.grad().shape(), (Shape{2, 3}));
  EXPECT_EQ(x.grad().dtype(), kFloat64);
}

TEST(ReduceGrad, ProdWithZeros) {
  const Tensor one_zero = leaf({2, 0, 3}, {3});
  prod(one_zero).backward();
  expect_near(one_zero.grad(), {0, 6, 0});
  const Tensor two_zeros = leaf({0, 5, 0}, {3});
  prod(two_zeros).backward();
  expect_near(two_zeros.grad(), {0, 0, 0});
  const Tensor rows = leaf({2, 0, 3, 1, 2, 3}, {2, 3});
  prod(rows, {1}).backward(ones({2}, {.dtype = kFloat64}));
  expect_near(rows.grad(), {0, 6, 0, 6, 3, 2});
  const Tensor none = leaf({2, -1, 4}, {3});
  prod(none).backward();
  expect_near(none.grad(), {-4, 8, -2});
}

TEST(ReduceGrad, ProdWithAZeroHasASecondDerivative) {
  // d^2 prod / dx0 dx1 of (x0, x1, x2) = x2, with x1 = 0 and the first derivative through the zero branch.
  const Tensor x = leaf({2, 0, 3}, {3});
  const Tensor g = grad({prod(x)}, {x}, {}, {}, true)[0];  // (0, 6, 0)
  expect_near(g, {0, 6, 0});
  const Tensor h1 = grad({select(g, 0, 1)}, {x})[0];  // d(x0 x2)/dx = (x2, 0, x0)
  expect_near(h1, {3, 0, 2});
}

TEST(ReduceGrad, MaxTiesSplitEvenlyButMaxDimPicksTheIndex) {
  const Tensor x = leaf({1, 3, 3, 2}, {4});
  max(x).backward();
  expect_near(x.grad(), {0, 0.5, 0.5, 0});
  const Tensor y = leaf({1, 3, 3, 2}, {4});
  amin(y, {0}).backward();
  expect_near(y.grad(), {1, 0, 0, 0});
  const Tensor z = leaf({1, 3, 3, 2, 5, 5}, {2, 3});
  const ValuesIndices m = max(z, 1);
  expect_near(m.values, {3, 5});
  EXPECT_EQ(m.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(m.indices.dtype(), kInt64);
  EXPECT_FALSE(m.indices.requires_grad());
  m.values.backward(tensor(std::vector<double>{10, 20}, {2}));
  expect_near(z.grad(), {0, 10, 0, 0, 20, 0});
  const Tensor w = leaf({4, 1, 2, 0}, {2, 2});
  const ValuesIndices mn = min(w, 0, true);
  EXPECT_EQ(mn.values.shape(), (Shape{1, 2}));
  mn.values.backward(ones({1, 2}, {.dtype = kFloat64}));
  expect_near(w.grad(), {0, 0, 1, 1});
}

TEST(ReduceGrad, SoftmaxJacobianRowsSumToZero) {
  const Tensor x = leaf({0.5, -1, 2, 0.1, 0.2, 0.3}, {2, 3});
  const Tensor y = softmax(x, 1);
  // sum_i y_i = 1 for every row, so the all-ones cotangent has zero gradient.
  const Tensor g = grad({y}, {x}, {ones({2, 3}, {.dtype = kFloat64})}, true)[0];
  expect_near(g, std::vector<double>(6, 0.0), 1e-14);
  // Each Jacobian row: dy_i/dx_j = y_i (delta_ij - y_j).
  const std::vector<double> yv = y.to_vector<double>();
  for (int64_t i = 0; i < 3; ++i) {
    std::vector<double> e(6, 0.0);
    e[i] = 1;
    const std::vector<double> row = grad({y}, {x}, {tensor(e, {2, 3})}, true)[0].to_vector<double>();
    for (int64_t j = 0; j < 3; ++j) EXPECT_NEAR(row[j], yv[i] * ((i == j) - yv[j]), 1e-14);
    for (int64_t j = 3; j < 6; ++j) EXPECT_EQ(row[j], 0.0);
  }
}

TEST(ReduceGrad, LogSoftmaxGradientIsDyMinusSoftmaxTimesSum) {
  const Tensor x = leaf({1, 2, 3}, {3});
  const Tensor y = log_softmax(x, 0);
  y.backward(tensor(std::vector<double>{1, 0, 0}, {3}));
  const std::vector<double> p = softmax(x.detach(), 0).to_vector<double>();
  expect_near(x.grad(), {1 - p[0], -p[1], -p[2]});
}

TEST(ReduceGrad, LogsumexpGradientIsSoftmax) {
  const Tensor x = leaf({1e4, 1e4, -1e4}, {3});  // stable at extremes
  logsumexp(x, {0}).backward();
  expect_near(x.grad(), {0.5, 0.5, 0});
}

TEST(ReduceGrad, VarAndStdValuesAndGradient) {
  const Tensor x = leaf({1, 2, 3, 4}, {4});
  const Tensor v = var(x);
  EXPECT_NEAR(v.item(), 5.0 / 3, 1e-12);
  EXPECT_NEAR(std(x, {}, 0).item(), std::sqrt(1.25), 1e-12);
  v.backward();  // 2 (x - 2.5) / 3
  expect_near(x.grad(), {-1, -1.0 / 3, 1.0 / 3, 1});
}

TEST(ReduceGrad, NormAtZeroHasZeroGradient) {
  const Tensor x = leaf({0, 0, 0}, {3});
  const Tensor n = norm(x);
  EXPECT_EQ(n.item(), 0.0);
  n.backward();
  expect_near(x.grad(), {0, 0, 0});
  const Tensor y = leaf({3, -4}, {2});
  EXPECT_NEAR(norm(y).item(), 5, 1e-12);
  EXPECT_NEAR(norm(y, 1.0).item(), 7, 1e-12);
  EXPECT_NEAR(norm(y, kInf).item(), 4, 1e-12);
  EXPECT_NEAR(norm(y, -kInf).item(), 3, 1e-12);
  EXPECT_NEAR(norm(y, 3.0).item(), std::cbrt(91.0), 1e-12);
  EXPECT_NEAR(norm(y, 0.0).item(), 2, 1e-12);
  norm(y).backward();
  expect_near(y.grad(), {0.6, -0.8});
}

TEST(ReduceGrad, SumToOfTheSameShapeIsTheInput) {
  const Tensor x = leaf({1, 2}, {2});
  EXPECT_TRUE(sum_to(x, {2}).is_same(x));
  EXPECT_EQ(sum_to(x, {1}).grad_fn()->name(), "sum_to");
}

TEST(ReduceGrad, RecordedNames) {
  const Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(sum(x).grad_fn()->name(), "sum");
  EXPECT_EQ(mean(x).grad_fn()->name(), "mean");
  EXPECT_EQ(prod(x).grad_fn()->name(), "prod");
  EXPECT_EQ(max(x).grad_fn()->name(), "amax");
  EXPECT_EQ(min(x).grad_fn()->name(), "amin");
  EXPECT_EQ(max(x, 1).values.grad_fn()->name(), "max_dim");
  EXPECT_EQ(min(x, 1).values.grad_fn()->name(), "min_dim");
  EXPECT_EQ(var(x).grad_fn()->name(), "var");
  EXPECT_EQ(logsumexp(x, {1}).grad_fn()->name(), "logsumexp");
  EXPECT_EQ(norm(x).grad_fn()->name(), "norm");
  EXPECT_EQ(softmax(x, 1).grad_fn()->name(), "softmax");
  EXPECT_EQ(log_softmax(x, 1).grad_fn()->name(), "log_softmax");
}

TEST(ReduceGrad, NonDifferentiableResults) {
  const Tensor x = leaf({1, 5, 2, 0}, {2, 2});
  EXPECT_EQ(argmax(x).item<int64_t>(), 1);
  EXPECT_EQ(argmin(x).item<int64_t>(), 3);
  EXPECT_EQ(argmax(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(argmin(x, 1, true).shape(), (Shape{2, 1}));
  EXPECT_FALSE(argmax(x).requires_grad());
  EXPECT_EQ(any(x > 4.0).item<bool>(), true);
  EXPECT_EQ(all(x > 4.0, {1}).to_vector<int64_t>(), (std::vector<int64_t>{0, 0}));
  EXPECT_FALSE(any(x).requires_grad());
  const Tensor i = tensor({1, 2, 3});
  EXPECT_EQ(sum(i).dtype(), kInt64);
  EXPECT_EQ(sum(i).item<int64_t>(), 6);
}

TEST(ReduceGrad, Errors) {
  const Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  EXPECT_THROW(max(x, 2), IndexError);
  try {
    min(x, -3);
    ADD_FAILURE() << "no exception";
  } catch (const IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("min"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 2]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(norm(tensor({1, 2})), DTypeError);
  EXPECT_THROW(norm(x, 2.0, {3}), IndexError);
  EXPECT_THROW(mean(tensor({1, 2})), DTypeError);
  EXPECT_THROW(softmax(tensor({1, 2}), 0), DTypeError);
  EXPECT_THROW(sum(x, {0, 0}), IndexError);
  EXPECT_THROW(sum_to(x, {3}), ShapeError);
  EXPECT_THROW(argmax(zeros({0})), ValueError);
}

}  // namespace
}  // namespace xgrad
