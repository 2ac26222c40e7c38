// Normalisation ops: gradient-table rows (first and second order, float64) for batch_norm in
// training and evaluation, layer_norm and group_norm; forward values and running statistics worked
// out by hand; float32 accuracy against a float64 reference; closed-form gradients; errors.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/grad_cases.hpp"

namespace xgrad {
namespace {

using namespace xgrad::testing;

Tensor f64(const std::vector<double>& v, const Shape& s) { return tensor(v, s); }

// Fixed running statistics for the evaluation cases (constants, not inputs).
Tensor running(const std::vector<double>& v) { return f64(v, {static_cast<int64_t>(v.size())}); }

// ---- gradient table -------------------------------------------------------------------------------
XGRAD_GRAD_CASE(batch_norm_train_2d_affine, "batch_norm", {{5, 3}, {3}, {3}},
                [](const Inputs& x) { return batch_norm(x[0], {}, {}, x[1], x[2], true); });
XGRAD_GRAD_CASE(batch_norm_train_2d_plain, "batch_norm", {{4, 3}},
                [](const Inputs& x) { return batch_norm(x[0], {}, {}, {}, {}, true); });
XGRAD_GRAD_CASE(batch_norm_train_2d_running_stats_weighted, "batch_norm", {{4, 2}, {4, 2}}, [](const Inputs& x) {
  // Running statistics are updated in place on every call and take no part in the gradient.
  const Tensor rm = zeros({2}, {.dtype = kFloat64}), rv = ones({2}, {.dtype = kFloat64});
  return batch_norm(x[0], rm, rv, {}, {}, true) * x[1];
});
XGRAD_GRAD_CASE(batch_norm_train_4d_affine, "batch_norm", {{2, 3, 2, 2}, {3}, {3}},
                [](const Inputs& x) { return batch_norm(x[0], {}, {}, x[1], x[2], true); });
XGRAD_GRAD_CASE(batch_norm_train_4d_plain, "batch_norm", {{3, 2, 2, 1}},
                [](const Inputs& x) { return batch_norm(x[0], {}, {}, {}, {}, true, 0.1, 1e-3); });
XGRAD_GRAD_CASE(batch_norm_train_3d_weight_only, "batch_norm", {{2, 3, 3}, {3}},
                [](const Inputs& x) { return batch_norm(x[0], {}, {}, x[1], {}, true); });
XGRAD_GRAD_CASE(batch_norm_eval_2d_affine, "batch_norm", {{4, 3}, {3}, {3}}, [](const Inputs& x) {
  return batch_norm(x[0], running({0.1, -0.2, 0.3}), running({0.5, 1.5, 2.0}), x[1], x[2], false);
});
XGRAD_GRAD_CASE(batch_norm_eval_4d_plain_squared, "batch_norm", {{2, 2, 2, 3}}, [](const Inputs& x) {
  const Tensor y = batch_norm(x[0], running({0.2, -0.1}), running({0.7, 1.3}), {}, {}, false);
  return y * y;
});
XGRAD_GRAD_CASE(batch_norm_eval_4d_affine, "batch_norm", {{2, 2, 2, 2}, {2}, {2}}, [](const Inputs& x) {
  return batch_norm(x[0], running({0.2, -0.1}), running({0.7, 1.3}), x[1], x[2], false) * x[0];
});
XGRAD_GRAD_CASE(layer_norm_last_dim_affine, "layer_norm", {{3, 4}, {4}, {4}},
                [](const Inputs& x) { return layer_norm(x[0], {4}, x[1], x[2]); });
XGRAD_GRAD_CASE(layer_norm_last_dim_plain_3d, "layer_norm", {{2, 3, 4}},
                [](const Inputs& x) { return layer_norm(x[0], {4}); });
XGRAD_GRAD_CASE(layer_norm_two_dims_affine, "layer_norm", {{2, 3, 2}, {3, 2}, {3, 2}}, [](const Inputs& x) {
  return layer_norm(x[0], {3, 2}, x[1], x[2]);
});
XGRAD_GRAD_CASE(layer_norm_two_dims_plain_weighted, "layer_norm", {{2, 2, 3}, {2, 2, 3}}, [](const Inputs& x) {
  return layer_norm(x[0], {2, 3}, {}, {}, 1e-3) * x[1];
});
XGRAD_GRAD_CASE(group_norm_one_group_affine, "group_norm", {{2, 4, 3}, {4}, {4}},
                [](const Inputs& x) { return group_norm(x[0], 1, x[1], x[2]); });
XGRAD_GRAD_CASE(group_norm_two_groups_4d_affine, "group_norm", {{2, 4, 2, 2}, {4}, {4}},
                [](const Inputs& x) { return group_norm(x[0], 2, x[1], x[2]); });
XGRAD_GRAD_CASE(group_norm_two_groups_plain, "group_norm", {{3, 4, 2}},
                [](const Inputs& x) { return group_norm(x[0], 2); });
XGRAD_GRAD_CASE(group_norm_c_groups_affine, "group_norm", {{2, 3, 4}, {3}, {3}},
                [](const Inputs& x) { return group_norm(x[0], 3, x[1], x[2]); });
XGRAD_GRAD_CASE(group_norm_two_groups_no_spatial_affine, "group_norm", {{3, 4}, {4}, {4}},
                [](const Inputs& x) { return group_norm(x[0], 2, x[1], x[2]); });
XGRAD_GRAD_CASE(group_norm_c_groups_4d_weighted, "group_norm", {{2, 2, 2, 2}, {2, 2, 2, 2}},
                [](const Inputs& x) { return group_norm(x[0], 2) * x[1]; });

// ---- forward values -------------------------------------------------------------------------------

TEST(BatchNorm, NormalisesEachChannelByHand) {
  // [[1], [3]]: mean 2, biased variance 1, so y = [-1, 1] / sqrt(1 + eps).
  const double s = 1.0 / std::sqrt(1.0 + 1e-5);
  expect_near(batch_norm(f64({1, 3}, {2, 1}), {}, {}, {}, {}, true), {-s, s}, 1e-12);
  // Two channels [[1, 10], [3, 30]] with weight [2, 1] and bias [0, 5]: channel 1 has mean 20 and
  // variance 100, so y = [-1, 1] + 5.
  const double s2 = 1.0 / std::sqrt(100.0 + 1e-5) * 10.0;
  expect_near(batch_norm(f64({1, 10, 3, 30}, {2, 2}), {}, {}, f64({2, 1}, {2}), f64({0, 5}, {2}), true),
              {-2 * s, 5 - s2, 2 * s, 5 + s2}, 1e-12);
}

TEST(BatchNorm, ReducesOverBatchAndSpatialDims) {
  // [2, 1, 2]: the channel holds 0, 2, 4, 6 (mean 3, variance 5).
  const double r = 1.0 / std::sqrt(5.0 + 1e-5);
  expect_near(batch_norm(f64({0, 2, 4, 6}, {2, 1, 2}), {}, {}, {}, {}, true), {-3 * r, -r, r, 3 * r}, 1e-12);
  // The same channel data laid out as [1, 1, 2, 2] gives the same values.
  expect_near(batch_norm(f64({0, 2, 4, 6}, {1, 1, 2, 2}), {}, {}, {}, {}, true), {-3 * r, -r, r, 3 * r}, 1e-12);
}

TEST(BatchNorm, RunningStatisticsAfterTwoSteps) {
  // momentum 0.1, starting from mean 0 and variance 1.
  // step 1: x = [1, 3]: mean 2, unbiased variance 2 -> running mean 0.2, running var 0.9 + 0.2 = 1.1
  // step 2: x = [0, 4]: mean 2, unbiased variance 8 -> running mean 0.38, running var 0.99 + 0.8 = 1.79
  const Tensor rm = zeros({1}, {.dtype = kFloat64}), rv = ones({1}, {.dtype = kFloat64});
  const uint64_t v0 = rm.version();
  batch_norm(f64({1, 3}, {2, 1}), rm, rv, {}, {}, true);
  expect_near(rm, {0.2});
  expect_near(rv, {1.1});
  batch_norm(f64({0, 4}, {2, 1}), rm, rv, {}, {}, true);
  expect_near(rm, {0.38});
  expect_near(rv, {1.79});
  EXPECT_GT(rm.version(), v0);
  // Evaluation uses them: x = 0.38 + sqrt(1.79 + eps) normalises to 1, and updates nothing.
  const double x = 0.38 + std::sqrt(1.79 + 1e-5);
  expect_near(batch_norm(f64({x}, {1, 1}), rm, rv, {}, {}, false), {1.0}, 1e-12);
  expect_near(rm, {0.38});
  expect_near(rv, {1.79});
}

TEST(BatchNorm, RunningStatisticsKeepTheirDtypeAndMomentumOne) {
  // float32 running statistics updated from a float64 batch; momentum 1 replaces them.
  const Tensor rm = zeros({2}), rv = ones({2});
  batch_norm(f64({1, 2, 3, 6}, {2, 2}), rm, rv, {}, {}, true, 1.0);
  EXPECT_EQ(rm.dtype(), kFloat32);
  expect_near(rm, {2, 4}, 1e-6);
  expect_near(rv, {2, 8}, 1e-6);
}

TEST(BatchNorm, EvaluationIsAnAffineMapOfTheRunningStatistics) {
  // (x - rm) / sqrt(rv + eps) * w + b per channel, channel dim 1 of [1, 2, 2].
  const Tensor y = batch_norm(f64({1, 2, 3, 4}, {1, 2, 2}), running({1, 2}), running({4, 1}), f64({2, 3}, {2}),
                              f64({1, -1}, {2}), false, 0.1, 0.0);
  expect_near(y, {1, 2, -1 + 3, -1 + 6}, 1e-12);
}

TEST(LayerNorm, NormalisesTrailingDims) {
  // [1, 2, 3]: mean 2, variance 2/3; [10, 20, 30]: mean 20, variance 200/3.
  const double r = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5), r10 = 10.0 / std::sqrt(200.0 / 3.0 + 1e-5);
  expect_near(layer_norm(f64({1, 2, 3, 10, 20, 30}, {2, 3}), {3}), {-r, 0, r, -r10, 0, r10}, 1e-12);
  // Over both dims of [1, 2, 2] with weight and bias: 0, 2, 4, 6 has mean 3 and variance 5.
  const double q = 1.0 / std::sqrt(5.0 + 1e-5);
  expect_near(layer_norm(f64({0, 2, 4, 6}, {1, 2, 2}), {2, 2}, f64({1, 2, 3, 4}, {2, 2}), f64({0, 0, 0, 1}, {2, 2})),
              {-3 * q, -2 * q, 3 * q, 1 + 12 * q}, 1e-12);
}

TEST(GroupNorm, NormalisesEachGroupOfEachSample) {
  // [1, 4, 1] = [1, 3, 10, 20] in 2 groups: [1, 3] -> [-1, 1], [10, 20] -> [-1, 1]; then weight
  // [1, 2, 3, 4] and bias [0, 0, 0, 1] give [-1, 2, -3, 5] (eps 0).
  expect_near(group_norm(f64({1, 3, 10, 20}, {1, 4, 1}), 2, f64({1, 2, 3, 4}, {4}), f64({0, 0, 0, 1}, {4}), 0.0),
              {-1, 2, -3, 5}, 1e-12);
  // One group per channel equals an instance norm; one group equals a layer norm over [C, ...].
  const Tensor x = from_array(random_array({2, 3, 4}, kFloat64, 7));
  expect_near(group_norm(x, 1), layer_norm(x, {3, 4}).to_vector<double>(), 1e-12);
  const Tensor inst = group_norm(x, 3);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 3; ++c) {
      const Tensor row = x.select(0, n).select(0, c);
      expect_near(inst.select(0, n).select(0, c), layer_norm(row, {4}).to_vector<double>(), 1e-12);
    }
}

TEST(Normalisation, Float32MatchesFloat64WithALargeMean) {
  // Values around 1000 with spread ~1: the shifted single-pass statistics keep float32 accurate.
  const Array a = random_array({16, 4, 8}, kFloat64, 3, 999.0, 1001.0);
  const Tensor x64(a), x32(a.to(kFloat32));
  auto check = [](const Tensor& got, const Tensor& want) {
    const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
    ASSERT_EQ(g.size(), w.size());
    for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], w[i], 2e-3) << "at " << i;
  };
  check(batch_norm(x32, {}, {}, {}, {}, true), batch_norm(x64, {}, {}, {}, {}, true));
  check(layer_norm(x32, {8}), layer_norm(x64, {8}));
  check(group_norm(x32, 2), group_norm(x64, 2));
  EXPECT_EQ(batch_norm(x32, {}, {}, {}, {}, true).dtype(), kFloat32);
}

TEST(Normalisation, StridedInputsGiveTheSameValues) {
  const Tensor x = from_array(random_array({3, 4, 5}, kFloat64, 11));
  const Tensor t = x.transpose(0, 2);  // [5, 4, 3], not contiguous
  const Tensor c = t.contiguous();
  expect_near(batch_norm(t, {}, {}, {}, {}, true), batch_norm(c, {}, {}, {}, {}, true).to_vector<double>(), 1e-12);
  expect_near(layer_norm(t, {3}), layer_norm(c, {3}).to_vector<double>(), 1e-12);
  expect_near(group_norm(t, 2), group_norm(c, 2).to_vector<double>(), 1e-12);
}

// ---- closed-form gradients ------------------------------------------------------------------------

TEST(NormGrad, SumOfOutputHasZeroInputGradient) {
  // sum(xhat) is 0 for every x, so d sum(y) / dx = 0 in training; db counts the reduced elements.
  const Tensor x = from_array(random_array({4, 3, 2}, kFloat64, 5)).requires_grad_();
  const Tensor w = tensor(std::vector<double>{1, 2, 3}, {3}).requires_grad_();
  const Tensor b = zeros({3}, {.dtype = kFloat64, .requires_grad = true});
  sum(batch_norm(x, {}, {}, w, b, true)).backward();
  expect_near(x.grad(), std::vector<double>(24, 0.0), 1e-12);
  expect_near(b.grad(), {8, 8, 8}, 1e-12);
  expect_near(w.grad(), {0, 0, 0}, 1e-12);  // sum of xhat per channel
}

TEST(NormGrad, EvaluationGradientIsWeightTimesRstd) {
  const Tensor x = f64({1, 2, 3, 4}, {2, 2}).requires_grad_();
  const Tensor w = f64({2, 3}, {2}).requires_grad_();
  sum(batch_norm(x, running({0, 0}), running({4, 9}), w, {}, false, 0.1, 0.0)).backward();
  expect_near(x.grad(), {1, 1, 1, 1}, 1e-12);        // 2 / 2, 3 / 3
  expect_near(w.grad(), {4.0 / 2, 6.0 / 3}, 1e-12);  // sum((x - 0) / sqrt(rv))
}

TEST(NormGrad, FirstOrderPathMatchesTheRecordedOne) {
  // The backward without create_graph reads saved statistics; with it, they are recomputed.
  const Tensor x = from_array(random_array({3, 4, 2}, kFloat64, 9)).requires_grad_();
  const Tensor w = from_array(random_array({4}, kFloat64, 10)).requires_grad_();
  const Tensor v = from_array(random_array({3, 4, 2}, kFloat64, 12));
  for (int op = 0; op < 3; ++op) {
    auto f = [&]() {
      if (op == 0) return batch_norm(x, {}, {}, w, {}, true);
      if (op == 1) return layer_norm(x, {4, 2}, from_array(random_array({4, 2}, kFloat64, 10)), {});
      return group_norm(x, 2, w, {});
    };
    const auto plain = grad({sum(f() * v)}, {x});
    const auto recorded = grad({sum(f() * v)}, {x}, {}, {}, true);
    expect_near(recorded[0], plain[0].to_vector<double>(), 1e-12);
  }
}

TEST(NormGrad, Float32GradientsMatchFloat64) {
  // The fused first-order backward accumulates in double: float32 gradients of a sizeable input
  // agree with float64 ones to float32 precision.
  const Array xa = random_array({8, 6, 5}, kFloat64, 21, -3, 3), wa = random_array({6}, kFloat64, 22);
  const Array va = random_array({8, 6, 5}, kFloat64, 23);
  for (int op = 0; op < 3; ++op) {
    std::vector<std::vector<double>> grads;
    for (DType dt : {kFloat64, kFloat32}) {
      const Tensor x = Tensor(xa.to(dt)).requires_grad_(), w = Tensor(wa.to(dt)).requires_grad_();
      const Tensor y = op == 0   ? batch_norm(x, {}, {}, w, {}, true)
                       : op == 1 ? layer_norm(x, {5}, Tensor(xa.to(dt)).select(0, 0).select(0, 0), {})
                                 : group_norm(x, 3, w, {});
      sum(y * Tensor(va.to(dt))).backward();
      grads.push_back(x.grad().to_vector<double>());
    }
    expect_values(grads[1], grads[0], 1e-4);
  }
}

// ---- errors ---------------------------------------------------------------------------------------

TEST(NormErrors, ShapesDtypesAndModes) {
  const Tensor x = zeros({4, 3});
  expect_error<ShapeError>([&] { batch_norm(x, {}, {}, ones({4}), {}, true); },
                           {"batch_norm: weight of shape [4]", "input of shape [4, 3]", "expected [3]"});
  expect_error<ShapeError>([&] { batch_norm(x, zeros({2}), ones({3}), {}, {}, true); },
                           {"batch_norm: running_mean of shape [2]"});
  expect_error<ShapeError>([&] { batch_norm(zeros({3}), {}, {}, {}, {}, true); }, {"batch_norm", "[3]"});
  expect_error<DTypeError>([&] { batch_norm(x, {}, {}, ones({3}, {.dtype = kFloat64}), {}, true); },
                           {"batch_norm: weight has dtype float64", "float32"});
  expect_error<DTypeError>(
      [&] {
        batch_norm(zeros({4, 3}, {.dtype = kInt64}), {}, {}, {}, {}, true);
      },
      {"batch_norm", "int64"});
  expect_error<ValueError>([&] { batch_norm(x, {}, {}, {}, {}, false); }, {"batch_norm", "running_mean"});
  expect_error<ValueError>([&] { batch_norm(x, zeros({3}), {}, {}, {}, true); }, {"batch_norm", "both"});
  expect_error<ValueError>(
      [&] {
        batch_norm(zeros({1, 3}), {}, {}, {}, {}, true);
      },
      {"batch_norm: expected more than 1 value per channel", "[1, 3]"});
  expect_error<ValueError>([&] { batch_norm(x, {}, {}, {}, {}, true, 0.1, -1.0); }, {"batch_norm: eps"});

  expect_error<ShapeError>([&] { layer_norm(x, {4}); }, {"layer_norm: input of shape [4, 3]", "normalized_shape [4]"});
  expect_error<ShapeError>([&] { layer_norm(x, {3}, ones({4})); }, {"layer_norm: weight of shape [4]", "[4, 3]"});
  expect_error<ShapeError>([&] { layer_norm(x, {4, 3, 1}); }, {"layer_norm"});
  expect_error<ValueError>([&] { layer_norm(x, {}); }, {"layer_norm: normalized_shape"});

  expect_error<ShapeError>(
      [&] {
        group_norm(zeros({2, 6, 4}), 4);
      },
      {"group_norm", "6 channels", "[2, 6, 4]", "4 groups"});
  expect_error<ShapeError>(
      [&] {
        group_norm(zeros({2, 6}), 3, ones({3}));
      },
      {"group_norm: weight of shape [3]", "[2, 6]", "expected [6]"});
  expect_error<ValueError>([&] { group_norm(zeros({2, 6}), 0); }, {"group_norm: groups"});
  expect_error<ShapeError>([&] { group_norm(zeros({6}), 3); }, {"group_norm", "[6]"});
}

TEST(NormErrors, AFailedCallLeavesRunningStatisticsAlone) {
  const Tensor rm = zeros({3}), rv = ones({3});
  EXPECT_THROW(batch_norm(zeros({4, 3}), rm, rv, ones({2}), {}, true), ShapeError);
  expect_near(rm, {0, 0, 0});
  expect_near(rv, {1, 1, 1});
}

}  // namespace
}  // namespace xgrad
