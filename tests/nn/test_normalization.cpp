// Normalisation layers and Dropout2d: PyTorch's parameter and buffer names and shapes, training
// versus evaluation (running statistics, num_batches_tracked), printing, errors, channel dropout
// statistics with a fixed seed, and gradients through the layers (float64, first and second order).
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
using D = std::vector<double>;
using Names = std::vector<std::string>;

void expect_near(const Tensor& t, const D& want, double tol = 1e-6) {
  ASSERT_TRUE(t.defined());
  const D got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// ---- BatchNorm ------------------------------------------------------------------------------------------

TEST(BatchNorm, ParametersAndBuffersHavePyTorchsNamesAndShapes) {
  BatchNorm2d bn(8);
  EXPECT_EQ(names(bn.named_parameters()), (Names{"weight", "bias"}));
  EXPECT_EQ(names(bn.named_buffers()), (Names{"running_mean", "running_var", "num_batches_tracked"}));
  EXPECT_EQ(bn.weight.shape(), (Shape{8}));
  EXPECT_EQ(bn.bias.shape(), (Shape{8}));
  expect_near(bn.weight, D(8, 1.0));
  expect_near(bn.bias, D(8, 0.0));
  expect_near(bn.running_mean, D(8, 0.0));
  expect_near(bn.running_var, D(8, 1.0));
  EXPECT_EQ(bn.num_batches_tracked.dtype(), kInt64);
  EXPECT_EQ(bn.num_batches_tracked.dim(), 0);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 0);
  EXPECT_FALSE(bn.running_mean.requires_grad());

  BatchNorm1d plain({.num_features = 3, .affine = false, .track_running_stats = false});
  EXPECT_TRUE(plain.named_parameters().empty());
  EXPECT_TRUE(plain.named_buffers().empty());
  // Nested, the names are dotted like PyTorch's state_dict keys.
  Sequential net({Linear(4, 3), BatchNorm1d(3)});
  EXPECT_EQ(names(net.named_buffers()), (Names{"1.running_mean", "1.running_var", "1.num_batches_tracked"}));
}

TEST(BatchNorm, TrainingUsesBatchStatisticsAndUpdatesRunningOnes) {
  BatchNorm1d bn(2);
  // Channel 0: [1, 3] (mean 2, biased var 1, unbiased 2); channel 1: [0, 4] (mean 2, var 4 / 8).
  const Tensor x = tensor({{1.f, 0.f}, {3.f, 4.f}});
  const Tensor y = bn(x);
  expect_near(y, {-1, -1, 1, 1}, 1e-4);
  expect_near(bn.running_mean, {0.2, 0.2});
  expect_near(bn.running_var, {0.9 + 0.2, 0.9 + 0.8});
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  bn(x);
  bn(x);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 3);
  // Three steps towards mean 2: 2 (1 - 0.9^3) = 0.542.
  expect_near(bn.running_mean, {0.542, 0.542}, 1e-6);
}

TEST(BatchNorm, EvaluationUsesRunningStatisticsAndCountsNothing) {
  BatchNorm1d bn(1);
  bn(tensor({{1.f}, {3.f}}));  // running mean 0.2, var 1.1
  bn.eval();
  const Tensor y = bn(tensor({{0.2f}, {0.2f + std::sqrt(1.1f + 1e-5f)}}));
  expect_near(y, {0, 1}, 1e-5);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  expect_near(bn.running_mean, {0.2});
  // A single sample is fine in evaluation, not in training.
  EXPECT_EQ(bn(tensor({{5.f}})).shape(), (Shape{1, 1}));
  bn.train();
  expect_error<ValueError>([&] { bn(tensor({{5.f}})); }, "more than 1 value per channel");
}

TEST(BatchNorm, MomentumNoneIsACumulativeAverage) {
  BatchNorm1d bn({.num_features = 1, .momentum = std::nullopt});
  bn(tensor({{1.f}, {3.f}}));   // mean 2: factor 1
  bn(tensor({{5.f}, {7.f}}));   // mean 6: factor 1/2
  bn(tensor({{-1.f}, {1.f}}));  // mean 0: factor 1/3
  expect_near(bn.running_mean, {8.0 / 3.0}, 1e-6);
  EXPECT_EQ(bn.extra_repr(), "1, eps=1e-05, momentum=None, affine=true, track_running_stats=true");
}

TEST(BatchNorm, WithoutRunningStatisticsEvaluationUsesTheBatch) {
  BatchNorm1d bn({.num_features = 1, .track_running_stats = false});
  bn.eval();
  expect_near(bn(tensor({{1.f}, {3.f}})), {-1, 1}, 1e-4);
}

TEST(BatchNorm, TwoDimsSpatialInputsAndAffine) {
  BatchNorm2d bn(2);
  {
    NoGradGuard no_grad;
    bn.weight.copy_(tensor({2.f, 1.f}));
    bn.bias.copy_(tensor({0.f, 10.f}));
  }
  // [1, 2, 1, 2]: channel 0 = [1, 3], channel 1 = [5, 5] (variance 0: y = bias).
  const Tensor y = bn(tensor(std::vector<float>{1, 3, 5, 5}, {1, 2, 1, 2}));
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1, 2}));
  expect_near(y, {-2, 2, 10, 10}, 1e-4);
  BatchNorm1d over_length(2);
  EXPECT_EQ(over_length(randn({4, 2, 5})).shape(), (Shape{4, 2, 5}));
}

TEST(BatchNorm, ErrorsNameTheLayerAndShape) {
  BatchNorm2d bn(3);
  expect_error<ShapeError>([&] { bn(zeros({2, 3})); }, "BatchNorm2d: expected a 4-d");
  expect_error<ShapeError>([&] { bn(zeros({2, 4, 2, 2})); }, "input of shape [2, 4, 2, 2] has 4 channels");
  BatchNorm1d one(3);
  expect_error<ShapeError>([&] { one(zeros({2, 3, 2, 2})); }, "BatchNorm1d: expected a 2-d");
  expect_error<ValueError>([] { BatchNorm1d(0); }, "num_features must be positive");
  expect_error<ValueError>([] { BatchNorm1d({.num_features = 2, .momentum = 1.5}); }, "momentum");
  BatchNorm2d empty;
  expect_error<ValueError>([&] { empty(zeros({2, 3, 2, 2})); }, "empty");
}

TEST(BatchNorm, PrintsLikePyTorchAndCastsFloatingBuffersOnly) {
  BatchNorm2d bn(32);
  EXPECT_EQ(bn.extra_repr(), "32, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true");
  EXPECT_EQ(bn.to_string(), "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");
  bn.to(kFloat64);
  EXPECT_EQ(bn.running_mean.dtype(), kFloat64);
  EXPECT_EQ(bn.weight.dtype(), kFloat64);
  EXPECT_EQ(bn.num_batches_tracked.dtype(), kInt64);
  EXPECT_EQ(bn(randn({2, 32, 2, 2}, {.dtype = kFloat64})).dtype(), kFloat64);
  bn.reset_running_stats();
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 0);
  expect_near(bn.running_var, D(32, 1.0));
}

// ---- LayerNorm and GroupNorm -----------------------------------------------------------------------------

TEST(LayerNorm, ParametersForwardAndPrinting) {
  LayerNorm ln(10);
  EXPECT_EQ(names(ln.named_parameters()), (Names{"weight", "bias"}));
  EXPECT_EQ(ln.weight.shape(), (Shape{10}));
  EXPECT_EQ(ln.extra_repr(), "(10,), eps=1e-05, elementwise_affine=true");
  LayerNorm two({.normalized_shape = {3, 4}, .eps = 1e-6, .bias = false});
  EXPECT_EQ(names(two.named_parameters()), (Names{"weight"}));
  EXPECT_EQ(two.weight.shape(), (Shape{3, 4}));
  EXPECT_EQ(two.extra_repr(), "(3, 4), eps=1e-06, elementwise_affine=true");
  EXPECT_TRUE(LayerNorm({.normalized_shape = {4}, .elementwise_affine = false}).named_parameters().empty());
  // [1, 2, 3] -> [-1, 0, 1] / sqrt(2/3 + eps), each row alone.
  LayerNorm three(3);
  const double r = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5);
  expect_near(three(tensor({{1.f, 2.f, 3.f}, {10.f, 20.f, 30.f}})), {-r, 0, r, -r, 0, r}, 1e-5);
  expect_error<ShapeError>([&] { three(zeros({2, 4})); }, "layer_norm: input of shape [2, 4]");
  expect_error<ValueError>([] { LayerNorm(LayerNorm::Options{}); }, "normalized_shape");
}

TEST(GroupNorm, ParametersForwardAndPrinting) {
  GroupNorm gn(2, 4);
  EXPECT_EQ(names(gn.named_parameters()), (Names{"weight", "bias"}));
  EXPECT_EQ(gn.weight.shape(), (Shape{4}));
  EXPECT_TRUE(gn.named_buffers().empty());
  EXPECT_EQ(gn.extra_repr(), "2, 4, eps=1e-05, affine=true");
  // [1, 4, 1] = [1, 3, 10, 20]: each pair of channels normalised to [-1, 1].
  expect_near(gn(tensor(std::vector<float>{1, 3, 10, 20}, {1, 4, 1})), {-1, 1, -1, 1}, 1e-4);
  const Tensor x = randn({2, 4, 3, 3});
  expect_near(gn(x), group_norm(x, 2).to_vector<double>(), 1e-6);
  expect_error<ValueError>([] { GroupNorm(3, 4); }, "num_channels=4 must be divisible by num_groups=3");
  expect_error<ShapeError>([&] { gn(zeros({2, 6, 2})); }, "has 6 channels, expected num_channels=4");
}

TEST(NormalizationGradients, ThroughEveryLayer) {
  BatchNorm1d bn1(3);
  check_layer(bn1, {4, 3});
  BatchNorm2d bn2(2);
  check_layer(bn2, {2, 2, 2, 3});
  BatchNorm2d bn_eval(2);
  bn_eval.eval();
  check_layer(bn_eval, {2, 2, 2, 2});
  LayerNorm ln({.normalized_shape = {3, 2}});
  check_layer(ln, {2, 3, 2});
  GroupNorm gn(2, 4);
  check_layer(gn, {2, 4, 3});
}

// ---- Dropout2d -------------------------------------------------------------------------------------------

TEST(Dropout2d, ZeroesWholeChannelsAndScalesTheRest) {
  manual_seed(0);
  Dropout2d drop(0.3);
  EXPECT_EQ(drop.extra_repr(), "p=0.3");
  const Tensor x = ones({8, 50, 2, 3});
  const Tensor y = drop(x);
  ASSERT_EQ(y.shape(), x.shape());
  const D v = y.to_vector<double>();
  int zeroed = 0;
  for (size_t ch = 0; ch < 400; ++ch) {
    const double first = v[ch * 6];
    EXPECT_TRUE(first == 0.0 || std::abs(first - 1.0 / 0.7) < 1e-6) << first;
    for (size_t i = 1; i < 6; ++i) EXPECT_EQ(v[ch * 6 + i], first) << "channel " << ch << " is not uniform";
    zeroed += first == 0.0;
  }
  // 400 channels with p = 0.3: 120 expected, standard deviation ~9.
  EXPECT_GT(zeroed, 90);
  EXPECT_LT(zeroed, 150);
  // The same seed gives the same channels.
  manual_seed(0);
  EXPECT_EQ(drop(x).to_vector<double>(), v);
}

TEST(Dropout2d, IdentityInEvaluationUnbatchedInputsAndGradient) {
  Dropout2d drop(0.5);
  drop.eval();
  const Tensor x = randn({2, 3, 4, 4});
  EXPECT_TRUE(drop(x).is_same(x));
  drop.train();
  manual_seed(5);
  const Tensor unbatched = drop(ones({6, 2, 2}));
  EXPECT_EQ(unbatched.shape(), (Shape{6, 2, 2}));
  // The gradient is the mask itself.
  const Tensor leaf = ones({2, 3, 2, 2}).requires_grad_();
  manual_seed(7);
  const Tensor y = drop(leaf);
  sum(y).backward();
  EXPECT_EQ(leaf.grad().to_vector<double>(), y.to_vector<double>());
  expect_error<ShapeError>([&] { drop(ones({2, 3})); }, "dropout2d: expected a 3-d");
  expect_error<ValueError>([] { Dropout2d(1.5); }, "Dropout2d: p must be in [0, 1]");
  EXPECT_EQ(functional::dropout2d(ones({1, 2, 2, 2}), 1.0).to_vector<double>(), D(8, 0.0));
}

}  // namespace
}  // namespace xgrad::nn
