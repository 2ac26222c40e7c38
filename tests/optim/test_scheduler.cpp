// Learning-rate schedulers against their closed-form sequences.
#include <cmath>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

#include "xgrad/optim/optim.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::optim {
namespace {

using V = std::vector<double>;

Tensor param() { return Tensor(tensor({1.0}).array(), true); }

// The lr after construction and after each of expected.size() - 1 steps.
void expect_lrs(LRScheduler& s, const V& expected, size_t group = 0) {
  for (size_t e = 0; e < expected.size(); ++e) {
    if (e > 0) s.step();
    EXPECT_EQ(s.last_epoch(), static_cast<int64_t>(e));
    EXPECT_NEAR(s.optimizer().param_groups()[group].lr, expected[e], 1e-15) << "epoch " << e;
    EXPECT_NEAR(s.get_last_lr()[group], expected[e], 1e-15) << "epoch " << e;
  }
}

TEST(StepLR, DecaysEveryStepSizeEpochs) {
  Tensor p = param();
  SGD opt({p}, {.lr = 0.1});
  StepLR s(opt, {.step_size = 2, .gamma = 0.5});
  // 0.1 * 0.5^floor(e / 2)
  expect_lrs(s, {0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125});
}

TEST(MultiStepLR, DecaysAtEachMilestone) {
  Tensor p = param();
  SGD opt({p}, {.lr = 0.1});
  MultiStepLR s(opt, {.milestones = {2, 5}, .gamma = 0.1});
  expect_lrs(s, {0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001});
  EXPECT_THROW(MultiStepLR(opt, {.milestones = {5, 2}}), ValueError);
}

TEST(ExponentialLR, MultipliesByGammaEachEpoch) {
  Tensor p = param();
  SGD opt({p}, {.lr = 0.1});
  ExponentialLR s(opt, {.gamma = 0.5});
  expect_lrs(s, {0.1, 0.05, 0.025, 0.0125, 0.00625});
}

TEST(CosineAnnealingLR, FollowsHalfACosineToEtaMin) {
  Tensor p = param();
  SGD opt({p}, {.lr = 0.1});
  CosineAnnealingLR s(opt, {.t_max = 4, .eta_min = 0.01});
  // 0.01 + 0.09 * (1 + cos(pi e / 4)) / 2: e = 2 is the midpoint 0.055, e = 4 the floor 0.01.
  const double c1 = 0.01 + 0.09 * (1 + std::sqrt(0.5)) / 2, c3 = 0.01 + 0.09 * (1 - std::sqrt(0.5)) / 2;
  expect_lrs(s, {0.1, c1, 0.055, c3, 0.01, c3, 0.055});
}

TEST(LinearLR, WarmsUpLinearlyThenHolds) {
  Tensor p = param();
  SGD opt({p}, {.lr = 0.1});
  LinearLR s(opt, {.start_factor = 0.25, .end_factor = 1.0, .total_iters = 4});
  // 0.1 * (0.25 + 0.75 * min(e, 4) / 4)
  expect_lrs(s, {0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1});
  EXPECT_THROW(LinearLR(opt, {.start_factor = 0.0}), ValueError);
}

TEST(LRScheduler, SchedulesEveryGroupFromItsOwnBase) {
  Tensor a = param(), b = param();
  SGD opt({ParamGroup{.params = {a}, .lr = 0.1}, ParamGroup{.params = {b}, .lr = 1.0}});
  StepLR s(opt, {.step_size = 1, .gamma = 0.5});
  s.step();
  EXPECT_EQ(s.get_last_lr(), (V{0.05, 0.5}));
  EXPECT_EQ(s.base_lrs(), (V{0.1, 1.0}));
  EXPECT_DOUBLE_EQ(opt.param_groups()[1].initial_lr, 1.0);
}

TEST(LRScheduler, StateRoundTripResumesTheSchedule) {
  Tensor p = param();
  SGD opt({p}, {.lr = 0.1});
  StepLR s(opt, {.step_size = 2, .gamma = 0.5});
  for (int i = 0; i < 3; ++i) s.step();
  const auto state = s.state_dict();
  const OptimizerState opt_state = opt.state_dict();
  EXPECT_DOUBLE_EQ(state.at("last_epoch"), 3.0);

  Tensor q = param();
  SGD opt2({q}, {.lr = 0.7});
  StepLR s2(opt2, {.step_size = 2, .gamma = 0.5});
  opt2.load_state_dict(opt_state);
  s2.load_state_dict(state);
  EXPECT_EQ(s2.last_epoch(), 3);
  EXPECT_DOUBLE_EQ(s2.get_last_lr()[0], 0.05);
  s.step();
  s2.step();
  EXPECT_DOUBLE_EQ(opt2.param_groups()[0].lr, opt.param_groups()[0].lr);  // 0.025 at epoch 4
  EXPECT_DOUBLE_EQ(opt2.param_groups()[0].lr, 0.025);
}

// ---- OneCycleLR -------------------------------------------------------------------------------------------

TEST(OneCycleLR, RisesToMaxLrThenAnnealsWithPyTorchDefaults) {
  Tensor p = param();
  SGD opt({p}, {.lr = 0.1, .momentum = 0.9});
  OneCycleLR s(opt, {.max_lr = 1.0, .total_steps = 10});
  // initial lr = 1 / 25 = 0.04, final = 0.04 / 1e4 = 4e-6. Phase 1 ends at step 0.3 * 10 - 1 = 2,
  // phase 2 at 9; within a phase lr = end + (start - end) (1 + cos(pi pct)) / 2.
  auto cos_anneal = [](double start, double end, double pct) {
    return end + (start - end) / 2 * (1 + std::cos(std::numbers::pi * pct));
  };
  V lrs = {0.04, 0.52, 1.0};  // step 1: pct 1/2, the midpoint (0.04 + 1) / 2
  V momenta = {0.95, 0.90, 0.85};
  for (int step = 3; step <= 9; ++step) {
    lrs.push_back(cos_anneal(1.0, 4e-6, (step - 2) / 7.0));
    momenta.push_back(cos_anneal(0.85, 0.95, (step - 2) / 7.0));
  }
  for (size_t t = 0; t < lrs.size(); ++t) {
    if (t > 0) s.step();
    EXPECT_NEAR(opt.param_groups()[0].lr, lrs[t], 1e-12) << "step " << t;
    EXPECT_NEAR(opt.param_groups()[0].momentum, momenta[t], 1e-12) << "step " << t;
  }
  EXPECT_NEAR(opt.param_groups()[0].lr, 4e-6, 1e-15);
  s.step();  // step 10 = total_steps is still allowed (PyTorch raises only beyond it)
  EXPECT_THROW(s.step(), ValueError);
}

TEST(OneCycleLR, LinearAnnealingAndThreePhases) {
  Tensor p = param();
  Adam opt({p});
  OneCycleLR s(opt, {.max_lr = 0.5,
                     .epochs = 2,
                     .steps_per_epoch = 5,
                     .anneal_strategy = AnnealStrategy::Linear,
                     .three_phase = true});
  EXPECT_EQ(s.total_steps(), 10);
  // Phases end at steps 2 (0.02 -> 0.5), 4 (0.5 -> 0.02) and 9 (0.02 -> 2e-6), linearly.
  const V expected = {0.02,
                      0.26,
                      0.5,
                      0.26,
                      0.02,
                      0.02 - 0.2 * (0.02 - 2e-6),
                      0.02 - 0.4 * (0.02 - 2e-6),
                      0.02 - 0.6 * (0.02 - 2e-6),
                      0.02 - 0.8 * (0.02 - 2e-6),
                      2e-6};
  for (size_t t = 0; t < expected.size(); ++t) {
    if (t > 0) s.step();
    EXPECT_NEAR(opt.param_groups()[0].lr, expected[t], 1e-12) << "step " << t;
  }
  EXPECT_NEAR(opt.param_groups()[0].momentum, 0.95, 1e-12);  // Adam's beta1 ends at max_momentum
}

TEST(OneCycleLR, NeedsMomentumUnlessCyclingIsOff) {
  Tensor p = param();
  Adagrad opt({p});
  EXPECT_THROW(OneCycleLR(opt, {.max_lr = 0.1, .total_steps = 10}), ValueError);
  OneCycleLR s(opt, {.max_lr = 0.1, .total_steps = 10, .cycle_momentum = false});
  EXPECT_NEAR(opt.param_groups()[0].lr, 0.004, 1e-15);
  EXPECT_THROW(OneCycleLR(opt, {.max_lr = 0.1}), ValueError);  // no length
}

// ---- ReduceLROnPlateau ----------------------------------------------------------------------------------

TEST(ReduceLROnPlateau, ReducesAfterPatienceBadEpochs) {
  Tensor p = param();
  SGD opt({p}, {.lr = 0.1});
  ReduceLROnPlateau s(opt, {.factor = 0.5, .patience = 2});
  EXPECT_TRUE(s.needs_metric());
  EXPECT_THROW(s.step(), ValueError);
  // best 1.0, then 0.9 improves (below 1.0 * (1 - 1e-4)); 0.95 is a bad epoch: the third one exceeds patience 2
  // and halves the lr, and the count starts again.
  const V metrics = {1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95};
  const V lrs = {0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025};
  for (size_t e = 0; e < metrics.size(); ++e) {
    s.step(metrics[e]);
    EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, lrs[e]) << "epoch " << e;
  }
  EXPECT_DOUBLE_EQ(s.best(), 0.9);
}

TEST(ReduceLROnPlateau, ThresholdCooldownMinLrAndMaxMode) {
  Tensor p = param();
  SGD opt({p}, {.lr = 0.1});
  ReduceLROnPlateau s(opt, {.mode = PlateauMode::Max,
                            .factor = 0.1,
                            .patience = 0,
                            .threshold = 0.1,
                            .threshold_mode = ThresholdMode::Abs,
                            .cooldown = 1,
                            .min_lr = 0.005});
  s.step(1.0);  // best = 1
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 0.1);
  s.step(1.05);  // not above 1 + 0.1: bad, patience 0 -> 0.01, cooldown 1
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 0.01);
  s.step(1.05);  // in cooldown: the bad epoch is forgiven
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 0.01);
  s.step(1.05);  // bad again: max(0.001, min_lr) = 0.005
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 0.005);
  s.step(1.05);  // cooldown
  s.step(1.05);  // 0.005 - max(0.0005, 0.005) = 0 < eps: no change
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 0.005);
  s.step(2.0);  // improves by more than 0.1
  EXPECT_DOUBLE_EQ(s.best(), 2.0);
  EXPECT_THROW(ReduceLROnPlateau(opt, {.factor = 1.5}), ValueError);
}

}  // namespace
}  // namespace xgrad::optim
