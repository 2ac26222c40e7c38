// Losses: values worked out by hand for each reduction, errors, stability with extreme inputs, and
// first- and second-order gradients (float64 finite differences).
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "xgrad/nn/nn.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::nn {
namespace {

namespace F = functional;
using D = std::vector<double>;

void expect_near(const Tensor& t, const D& want, double tol = 1e-12) {
  const D got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}

template <typename E, typename Fn> void expect_error(Fn fn, const std::string& part) {
  try {
    fn();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

// input [1, 2, 3], target [1.5, 2, 1]: d = [-0.5, 0, 2].
const Tensor kIn = tensor({1.0, 2.0, 3.0});
const Tensor kTarget = tensor({1.5, 2.0, 1.0});

TEST(MSELoss, SquaresTheDifference) {
  expect_near(F::mse_loss(kIn, kTarget, {.reduction = Reduction::None}), {0.25, 0, 4});
  expect_near(F::mse_loss(kIn, kTarget, {.reduction = Reduction::Sum}), {4.25});
  expect_near(F::mse_loss(kIn, kTarget), {4.25 / 3});
  expect_near(MSELoss()(kIn, kTarget), {4.25 / 3});
  EXPECT_EQ(F::mse_loss(kIn, kTarget).dim(), 0);
}

TEST(L1Loss, TakesTheAbsoluteDifference) {
  expect_near(F::l1_loss(kIn, kTarget, {.reduction = Reduction::None}), {0.5, 0, 2});
  expect_near(L1Loss({.reduction = Reduction::Sum})(kIn, kTarget), {2.5});
  expect_near(F::l1_loss(kIn, kTarget), {2.5 / 3});
}

TEST(SmoothL1Loss, IsQuadraticBelowBeta) {
  // beta 1: |d| < 1 -> 0.5 d^2 / 1 = 0.125; |d| = 2 -> 2 - 0.5 = 1.5.
  expect_near(F::smooth_l1_loss(kIn, kTarget, {.reduction = Reduction::None}), {0.125, 0, 1.5});
  // beta 0.5: |d| = 0.5 is not below 0.5 -> 0.5 - 0.25 = 0.25; 2 - 0.25 = 1.75.
  expect_near(F::smooth_l1_loss(kIn, kTarget, {.reduction = Reduction::None, .beta = 0.5}), {0.25, 0, 1.75});
  expect_near(SmoothL1Loss({.beta = 0.0})(kIn, kTarget), {2.5 / 3});  // beta 0 is L1
  expect_near(F::smooth_l1_loss(kIn, kTarget, {.reduction = Reduction::Sum}), {1.625});
  EXPECT_THROW(F::smooth_l1_loss(kIn, kTarget, {.beta = -1.0}), ValueError);
}

TEST(HuberLoss, IsDeltaTimesSmoothL1) {
  expect_near(F::huber_loss(kIn, kTarget, {.reduction = Reduction::None}), {0.125, 0, 1.5});
  // delta 0.5: 0.5 (0.5 - 0.25) = 0.125; 0.5 (2 - 0.25) = 0.875.
  expect_near(HuberLoss({.reduction = Reduction::None, .delta = 0.5})(kIn, kTarget), {0.125, 0, 0.875});
  expect_near(F::huber_loss(kIn, kTarget, {.reduction = Reduction::Mean, .delta = 0.5}), {1.0 / 3});
  EXPECT_THROW(F::huber_loss(kIn, kTarget, {.delta = 0.0}), ValueError);
}

TEST(ElementwiseLosses, RejectMismatchedShapesAndDtypes) {
  expect_error<ShapeError>(
      [] {
        F::mse_loss(ones({3}), ones({3, 1}));
      },
      "mse_loss: input shape [3] and target shape [3, 1]");
  expect_error<DTypeError>([] { F::l1_loss(ones({3}), ones({3}, {.dtype = kInt64})); },
                           "l1_loss: target must be floating");
  EXPECT_THROW(F::huber_loss(Tensor(), ones({3})), ValueError);
}

// ---- binary cross-entropy --------------------------------------------------------------------------------

TEST(BCELoss, IsMinusLogLikelihood) {
  // input [0.2, 0.9], target [0, 1]: [-log 0.8, -log 0.9].
  const Tensor p = tensor({0.2, 0.9}), t = tensor({0.0, 1.0});
  const double l0 = 0.22314355131420971, l1 = 0.10536051565782628;
  expect_near(F::binary_cross_entropy(p, t, {.reduction = Reduction::None}), {l0, l1});
  expect_near(BCELoss()(p, t), {(l0 + l1) / 2});
  expect_near(BCELoss({.weight = tensor({2.0, 1.0}), .reduction = Reduction::Sum})(p, t), {2 * l0 + l1});
}

TEST(BCELoss, ClampsTheLogAtMinus100) {
  const Tensor p = tensor({0.0, 1.0}).requires_grad_();
  const Tensor wrong = F::binary_cross_entropy(p, tensor({1.0, 0.0}), {.reduction = Reduction::None});
  expect_near(wrong, {100, 100});
  expect_near(F::binary_cross_entropy(p, tensor({0.0, 1.0}), {.reduction = Reduction::None}), {0, 0});
  sum(wrong).backward();
  EXPECT_TRUE(all_finite(p.grad())) << p.grad();
}

TEST(BCELoss, RejectsValuesOutsideZeroOne) {
  expect_error<ValueError>(
      [] {
        F::binary_cross_entropy(tensor({0.5, 1.5}), tensor({0.0, 1.0}));
      },
      "binary_cross_entropy: input values must be probabilities in [0, 1]");
  EXPECT_THROW(F::binary_cross_entropy(tensor({0.5}), tensor({0.0, 1.0})), ShapeError);
}

TEST(BCEWithLogitsLoss, EqualsSoftplusFormAndWeightsPositives) {
  // x [0, 2, -3], t [1, 0, 1]: softplus(-x) + (1 - t) x = [log 2, softplus(2), softplus(3)].
  const Tensor x = tensor({0.0, 2.0, -3.0}), t = tensor({1.0, 0.0, 1.0});
  const double a = 0.69314718055994529, b = 2.1269280110429727, c = 3.0485873515737421;
  expect_near(F::binary_cross_entropy_with_logits(x, t, {.reduction = Reduction::None}), {a, b, c});
  expect_near(BCEWithLogitsLoss()(x, t), {(a + b + c) / 3});
  // pos_weight 2 doubles the positive terms only.
  expect_near(BCEWithLogitsLoss({.reduction = Reduction::None, .pos_weight = tensor({2.0, 2.0, 2.0})})(x, t),
              {2 * a, b, 2 * c});
  // Matches BCE on sigmoid for moderate logits.
  expect_near(F::binary_cross_entropy_with_logits(x, t), F::binary_cross_entropy(sigmoid(x), t).to_vector<double>(),
              1e-12);
}

TEST(BCEWithLogitsLoss, IsStableForExtremeLogits) {
  const Tensor x = tensor({1e4f, -1e4f, 1e4f, -1e4f}).requires_grad_();
  const Tensor t = tensor({0.f, 1.f, 1.f, 0.f});
  const Tensor l = F::binary_cross_entropy_with_logits(x, t, {.reduction = Reduction::None});
  expect_near(l, {1e4, 1e4, 0, 0}, 1e-3);
  sum(l).backward();
  expect_near(x.grad(), {1, -1, 0, 0}, 1e-6);  // sigmoid(x) - t
}

// ---- cross-entropy and NLL ----------------------------------------------------------------------------------

// logits [[1, 2, 3], [1, 1, 1]], targets [2, 0]: -log softmax = [0.4076..., log 3].
const Tensor kLogits = tensor({{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}});
const Tensor kLabels = tensor({2, 0});
const double kL0 = 0.40760596444438058, kL1 = 1.09861228866811;

TEST(CrossEntropyLoss, IsNllOfLogSoftmaxForEachReduction) {
  expect_near(F::cross_entropy(kLogits, kLabels, {.reduction = Reduction::None}), {kL0, kL1});
  expect_near(F::cross_entropy(kLogits, kLabels, {.reduction = Reduction::Sum}), {kL0 + kL1});
  expect_near(CrossEntropyLoss()(kLogits, kLabels), {(kL0 + kL1) / 2});
  expect_near(F::nll_loss(log_softmax(kLogits, 1), kLabels), {(kL0 + kL1) / 2});
  const LossFn as_function = CrossEntropyLoss();
  expect_near(as_function(kLogits, kLabels), {(kL0 + kL1) / 2});
}

TEST(CrossEntropyLoss, ClassWeightsNormaliseTheMean) {
  // w = [1, 2, 3]: [3 kL0, 1 kL1]; the mean divides by w[2] + w[0] = 4.
  const Tensor w = tensor({1.0, 2.0, 3.0});
  expect_near(F::cross_entropy(kLogits, kLabels, {.weight = w, .reduction = Reduction::None}), {3 * kL0, kL1});
  expect_near(F::cross_entropy(kLogits, kLabels, {.weight = w}), {(3 * kL0 + kL1) / 4});
  expect_near(NLLLoss({.weight = w})(log_softmax(kLogits, 1), kLabels), {(3 * kL0 + kL1) / 4});
}

TEST(CrossEntropyLoss, IgnoreIndexDropsSamples) {
  const Tensor labels = tensor({2, -100});
  expect_near(F::cross_entropy(kLogits, labels, {.reduction = Reduction::None}), {kL0, 0});
  expect_near(F::cross_entropy(kLogits, labels), {kL0});  // the mean over 1 counted sample
  expect_near(F::cross_entropy(kLogits, kLabels, {.ignore_index = 0}), {kL0});
  expect_near(F::nll_loss(log_softmax(kLogits, 1), labels, {.weight = tensor({1.0, 2.0, 3.0})}), {kL0});
  // Everything ignored: 0 / 0, as in PyTorch.
  EXPECT_TRUE(std::isnan(F::cross_entropy(kLogits, tensor({-100, -100})).item()));
}

TEST(CrossEntropyLoss, LabelSmoothingMixesInTheUniformDistribution) {
  // (1 - 0.1) nll + 0.1 / 3 * (-sum_c log p_c): row 0 -> 0.5076..., a uniform row keeps log 3.
  const double s0 = 0.50760596444438066;
  expect_near(F::cross_entropy(kLogits, kLabels, {.reduction = Reduction::None, .label_smoothing = 0.1}), {s0, kL1});
  expect_near(CrossEntropyLoss({.label_smoothing = 0.1})(kLogits, kLabels), {(s0 + kL1) / 2});
  // With an ignored sample and weights, the ignored row contributes nothing.
  const Tensor w = tensor({1.0, 2.0, 3.0});
  const double logp[3] = {-2.4076059644443806, -1.4076059644443806, -0.40760596444438058};
  const double smooth_w = -(1 * logp[0] + 2 * logp[1] + 3 * logp[2]);
  expect_near(
      F::cross_entropy(kLogits, tensor({2, -100}), {.weight = w, .reduction = Reduction::None, .label_smoothing = 0.3}),
      {0.7 * 3 * kL0 + 0.1 * smooth_w, 0});
  EXPECT_THROW(F::cross_entropy(kLogits, kLabels, {.label_smoothing = 1.5}), ValueError);
}

TEST(CrossEntropyLoss, AcceptsProbabilityTargets) {
  const Tensor one_hot_targets = tensor({{0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}});
  expect_near(F::cross_entropy(kLogits, one_hot_targets, {.reduction = Reduction::None}), {kL0, kL1});
  // Soft row [0.5, 0.5, 0]: -(0.5 log p0 + 0.5 log p1) = 1.9076...
  const Tensor soft = tensor({{0.5, 0.5, 0.0}, {0.2, 0.3, 0.5}});
  expect_near(F::cross_entropy(kLogits, soft), {(1.9076059644443806 + kL1) / 2});
  // Smoothing one-hot targets equals smoothing class indices.
  expect_near(F::cross_entropy(kLogits, one_hot_targets, {.label_smoothing = 0.1}),
              F::cross_entropy(kLogits, kLabels, {.label_smoothing = 0.1}).to_vector<double>());
}

TEST(CrossEntropyLoss, UnbatchedAndSpatialInputs) {
  expect_near(F::cross_entropy(tensor({1.0, 2.0, 3.0}), full({}, 2.0, {.dtype = kInt64})), {kL0});
  EXPECT_EQ(
      F::cross_entropy(tensor({1.0, 2.0, 3.0}), full({}, 2.0, {.dtype = kInt64}), {.reduction = Reduction::None}).dim(),
      0);
  // [N=1, C=3, d=2]: column 0 holds logits [1, 2, 3], column 1 [1, 1, 1]; targets [[2, 0]].
  const Tensor spatial = tensor({{{1.0, 1.0}, {2.0, 1.0}, {3.0, 1.0}}});
  const Tensor labels = tensor({{2, 0}});
  expect_near(F::cross_entropy(spatial, labels, {.reduction = Reduction::None}), {kL0, kL1});
}

TEST(CrossEntropyLoss, IsStableForExtremeLogits) {
  const Tensor x = tensor({{1e4f, -1e4f, 0.f}, {-1e4f, 1e4f, 0.f}}).requires_grad_();
  const Tensor l = F::cross_entropy(x, tensor({1, 1}), {.reduction = Reduction::None});
  expect_near(l, {2e4, 0}, 1e-2);
  sum(l).backward();
  EXPECT_TRUE(all_finite(x.grad()));
  expect_near(x.grad(), {1, -1, 0, 0, 0, 0}, 1e-6);  // softmax - one_hot
  EXPECT_TRUE(all_finite(F::cross_entropy(x, tensor({1, 1}), {.label_smoothing = 0.2})));
}

TEST(CrossEntropyLoss, ErrorsNameTheProblem) {
  expect_error<ShapeError>(
      [] {
        F::cross_entropy(kLogits, tensor({0, 1, 2}));
      },
      "cross_entropy: target of shape [3] does not match input of shape [2, 3]");
  expect_error<DTypeError>(
      [] {
        F::cross_entropy(kLogits, tensor<bool>({true, false}));
      },
      "cross_entropy: target must be int64 class indices or floating class probabilities, got bool");
  expect_error<ShapeError>([] { F::cross_entropy(kLogits, tensor({1.0, 0.0})); }, "probability targets");
  expect_error<IndexError>([] { F::cross_entropy(kLogits, tensor({3, 0})); }, "target 3 is out of range for 3 classes");
  EXPECT_THROW(F::cross_entropy(kLogits, tensor({-1, 0})), IndexError);
  expect_error<ShapeError>(
      [] {
        F::cross_entropy(kLogits, kLabels, {.weight = tensor({1.0, 2.0})});
      },
      "weight must have shape [3]");
  EXPECT_THROW(F::cross_entropy(tensor({{1, 2}}), tensor({0})), DTypeError);  // integer logits
  EXPECT_THROW(F::cross_entropy(full({}, 1.0), tensor({0})), ShapeError);
  expect_error<DTypeError>([] { F::nll_loss(kLogits, tensor({1.0, 0.0})); }, "nll_loss: target must be int64");
}

// ---- gradients ------------------------------------------------------------------------------------------------

Tensor random_input(const Shape& shape, uint64_t seed, double lo = -2.0, double hi = 2.0) {
  Generator gen(seed);
  return (rand(shape, gen, {.dtype = kFloat64}) * (hi - lo) + lo).detach().contiguous().requires_grad_();
}

void check_loss(const std::string& what, const TensorFn& loss, const std::vector<Tensor>& inputs) {
  // Recording on inside: gradgradcheck's finite differences evaluate its first-order function with
  // recording off, and that function must build a graph to take a gradient.
  const TensorFn fn = [&loss](const std::vector<Tensor>& in) {
    EnableGradGuard record;
    return loss(in);
  };
  const GradcheckResult first = gradcheck(fn, inputs);
  EXPECT_TRUE(first.ok) << what << ": " << first.message;
  const GradcheckResult second = gradgradcheck(fn, inputs);
  EXPECT_TRUE(second.ok) << what << " (second order): " << second.message;
}

TEST(LossGradients, ElementwiseLosses) {
  const Tensor x = random_input({3, 4}, 1), y = random_input({3, 4}, 2);
  check_loss("mse", [](const std::vector<Tensor>& in) { return F::mse_loss(in[0], in[1]); }, {x, y});
  check_loss("l1",
             [](const std::vector<Tensor>& in) { return F::l1_loss(in[0], in[1], {.reduction = Reduction::Sum}); },
             {x, y});
  check_loss("smooth_l1", [](const std::vector<Tensor>& in) { return F::smooth_l1_loss(in[0], in[1], {.beta = 0.7}); },
             {x, y});
  check_loss("huber",
             [](const std::vector<Tensor>& in) {
               return F::huber_loss(in[0], in[1], {.reduction = Reduction::None, .delta = 0.6});
             },
             {x, y});
}

TEST(LossGradients, BinaryCrossEntropies) {
  const Tensor p = random_input({2, 3}, 3, 0.1, 0.9), t = random_input({2, 3}, 4, 0.0, 1.0);
  check_loss("bce", [](const std::vector<Tensor>& in) { return F::binary_cross_entropy(in[0], in[1]); }, {p, t});
  const Tensor x = random_input({2, 3}, 5, -3.0, 3.0);
  const Tensor pw = tensor({0.5, 2.0, 3.0});
  check_loss("bce_with_logits",
             [&pw](const std::vector<Tensor>& in) {
               return F::binary_cross_entropy_with_logits(in[0], in[1], {.pos_weight = pw});
             },
             {x, t});
}

TEST(LossGradients, CrossEntropyAndNll) {
  const Tensor x = random_input({4, 5}, 6);
  const Tensor labels = tensor({0, 4, -100, 2});
  const Tensor w = tensor({1.0, 0.5, 2.0, 1.5, 3.0});
  check_loss("cross_entropy", [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], labels); }, {x});
  check_loss("cross_entropy weighted smoothed",
             [&](const std::vector<Tensor>& in) {
               return F::cross_entropy(in[0], labels, {.weight = w, .label_smoothing = 0.2});
             },
             {x});
  const Tensor probs = softmax(random_input({4, 5}, 7), 1).detach();
  check_loss("cross_entropy probabilities",
             [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], probs, {.weight = w}); }, {x});
  check_loss("nll", [&](const std::vector<Tensor>& in) { return F::nll_loss(in[0], labels, {.weight = w}); }, {x});
}

TEST(LossGradients, CrossEntropyGradientIsSoftmaxMinusOneHotOverN) {
  const Tensor x = kLogits.detach().requires_grad_();
  F::cross_entropy(x, kLabels).backward();
  const D p0 = {0.090030573170380435, 0.24472847105479759, 0.66524095577482167};
  expect_near(x.grad(), {p0[0] / 2, p0[1] / 2, (p0[2] - 1) / 2, (1.0 / 3 - 1) / 2, 1.0 / 6, 1.0 / 6});
}

}  // namespace
}  // namespace xgrad::nn
