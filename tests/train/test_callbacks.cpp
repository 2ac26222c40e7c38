// Callbacks driven by scripted logs: the monitor's improvement rule, EarlyStopping's patience and
// weight restoring, ModelCheckpoint's saves, and LRSchedulerCallback with epoch, metric and batch
// schedulers.
#include <cmath>

#include <gtest/gtest.h>

#include "../dataio/temp_dir.hpp"
#include "xgrad/nn/nn.hpp"
#include "xgrad/optim/optim.hpp"
#include "xgrad/train/callbacks.hpp"
#include "xgrad/io/model_io.hpp"
#include "xgrad/train/checkpoint.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::train {
namespace {

using xgrad::testing::message_of;
using xgrad::testing::TempDir;

// A model, an optimizer and the state a callback sees; epochs are fed by hand.
struct Harness {
  nn::Linear model{nn::Linear::Options{.in = 2, .out = 1}};
  optim::SGD optimizer{model.parameters(), {.lr = 0.1}};
  History history;
  FitState state{model, optimizer, history, 10, 5};

  // Ends epoch e with `logs`, as fit() does: the history first, then the callback.
  void end_epoch(Callback& callback, int64_t e, const Logs& logs) {
    history.append(logs);
    callback.on_epoch_end(state, e, logs);
  }
  void set_weight(float value) {
    NoGradGuard no_grad;
    model.weight.fill_(value);
  }
};

TEST(Monitor, MinAndMaxWithMinDelta) {
  Monitor loss("val_loss", MonitorMode::Auto, 0.1);
  EXPECT_FALSE(loss.maximize());
  EXPECT_TRUE(loss.improved(1.0));
  EXPECT_FALSE(loss.improved(0.95));  // better by less than min_delta
  EXPECT_TRUE(loss.improved(0.85));
  EXPECT_FALSE(loss.improved(NAN));
  EXPECT_DOUBLE_EQ(loss.best(), 0.85);
  Monitor acc("val_accuracy", MonitorMode::Auto, 0.0);
  EXPECT_TRUE(acc.maximize());
  EXPECT_TRUE(acc.improved(0.5));
  EXPECT_FALSE(acc.improved(0.5));  // equal is no improvement
  EXPECT_TRUE(acc.improved(0.6));
  EXPECT_TRUE(Monitor("score", MonitorMode::Max, 0).maximize());
  EXPECT_FALSE(Monitor("val_accuracy", MonitorMode::Min, 0).maximize());
  const std::string message = message_of<ValueError>([] {
    Monitor("val_loss", MonitorMode::Auto, 0).value({{"loss", 1.0}}, "EarlyStopping");
  });
  EXPECT_NE(message.find("EarlyStopping: the monitored metric 'val_loss' is not in the logs (available: loss)"),
            std::string::npos)
      << message;
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  Harness run;
  EarlyStopping stop({.monitor = "val_loss", .patience = 2});
  stop.on_train_begin(run.state);
  const std::vector<double> losses = {1.0, 0.8, 0.85, 0.9, 0.7};
  int64_t e = 0;
  for (; e < static_cast<int64_t>(losses.size()) && !run.state.stop_training; ++e)
    run.end_epoch(stop, e, {{"val_loss", losses[static_cast<size_t>(e)]}});
  EXPECT_EQ(e, 4);  // epochs 2 and 3 do not improve on 0.8: stop after epoch 3
  EXPECT_EQ(stop.stopped_epoch(), 3);
  EXPECT_EQ(stop.best_epoch(), 1);
  EXPECT_DOUBLE_EQ(stop.best(), 0.8);
}

TEST(EarlyStopping, PatienceZeroStopsAtTheFirstMiss) {
  Harness run;
  EarlyStopping stop({.monitor = "accuracy"});
  stop.on_train_begin(run.state);
  run.end_epoch(stop, 0, {{"accuracy", 0.5}});
  run.end_epoch(stop, 1, {{"accuracy", 0.6}});
  EXPECT_FALSE(run.state.stop_training);
  run.end_epoch(stop, 2, {{"accuracy", 0.6}});
  EXPECT_TRUE(run.state.stop_training);
}

TEST(EarlyStopping, RestoresTheBestWeightsAtTheEnd) {
  Harness run;
  EarlyStopping stop({.monitor = "val_loss", .patience = 1, .restore_best_weights = true});
  stop.on_train_begin(run.state);
  const Tensor handle = run.model.weight;
  run.set_weight(1.0f);
  run.end_epoch(stop, 0, {{"val_loss", 0.5}});
  run.set_weight(2.0f);
  run.end_epoch(stop, 1, {{"val_loss", 0.4}});  // best
  run.set_weight(3.0f);
  run.end_epoch(stop, 2, {{"val_loss", 0.6}});
  run.set_weight(4.0f);
  run.end_epoch(stop, 3, {{"val_loss", 0.7}});
  ASSERT_TRUE(run.state.stop_training);
  stop.on_train_end(run.state);
  EXPECT_EQ(handle.to_vector<float>(), std::vector<float>({2.0f, 2.0f}));
  EXPECT_TRUE(handle.is_same(run.model.weight));
}

TEST(EarlyStopping, MissingMetricIsAnError) {
  Harness run;
  EarlyStopping stop;
  stop.on_train_begin(run.state);
  const std::string message = message_of<ValueError>([&] { run.end_epoch(stop, 0, {{"loss", 1.0}}); });
  EXPECT_NE(message.find("pass validation data to fit()"), std::string::npos) << message;
  EXPECT_THROW(EarlyStopping({.patience = -1}), ValueError);
}

TEST(ModelCheckpoint, SavesWhenTheMonitoredMetricImproves) {
  TempDir dir;
  Harness run;
  ModelCheckpoint checkpoint({.path = dir.file("model.safetensors"), .monitor = "val_accuracy"});
  checkpoint.on_train_begin(run.state);
  run.set_weight(1.0f);
  run.end_epoch(checkpoint, 0, {{"val_accuracy", 0.5}});
  run.set_weight(2.0f);
  run.end_epoch(checkpoint, 1, {{"val_accuracy", 0.7}});
  run.set_weight(3.0f);
  run.end_epoch(checkpoint, 2, {{"val_accuracy", 0.6}});
  EXPECT_EQ(checkpoint.saves(), 2);
  EXPECT_EQ(checkpoint.best_epoch(), 1);
  io::load_model(run.model, dir.file("model.safetensors"));
  EXPECT_EQ(run.model.weight.to_vector<float>(), std::vector<float>({2.0f, 2.0f}));
}

TEST(ModelCheckpoint, EveryEpochWithoutSaveBestOnly) {
  TempDir dir;
  Harness run;
  ModelCheckpoint checkpoint({.path = dir.file("last.safetensors"), .save_best_only = false});
  checkpoint.on_train_begin(run.state);
  run.end_epoch(checkpoint, 0, {{"loss", 1.0}});  // no val_loss needed
  run.end_epoch(checkpoint, 1, {{"loss", 2.0}});
  EXPECT_EQ(checkpoint.saves(), 2);
  EXPECT_THROW(ModelCheckpoint({.path = ""}), ValueError);
}

TEST(LRSchedulerCallback, StepsAnEpochSchedulerEachEpoch) {
  Harness run;
  optim::StepLR schedule(run.optimizer, {.step_size = 2, .gamma = 0.5});
  LRSchedulerCallback callback(schedule);
  for (int64_t e = 0; e < 4; ++e) {
    callback.on_batch_end(run.state, 0, {});  // per-epoch: batches do nothing
    run.end_epoch(callback, e, {{"loss", 1.0}});
  }
  EXPECT_DOUBLE_EQ(run.optimizer.param_groups()[0].lr, 0.025);  // 0.1 * 0.5^2
}

TEST(LRSchedulerCallback, PassesTheMetricToReduceLROnPlateau) {
  Harness run;
  optim::ReduceLROnPlateau plateau(run.optimizer, {.factor = 0.5, .patience = 1});
  LRSchedulerCallback callback(plateau, {.monitor = "val_loss"});
  for (int64_t e = 0; e < 4; ++e) run.end_epoch(callback, e, {{"val_loss", 1.0}});
  EXPECT_DOUBLE_EQ(run.optimizer.param_groups()[0].lr, 0.05);  // no improvement for 2 epochs
  EXPECT_THROW(run.end_epoch(callback, 4, {{"loss", 1.0}}), ValueError);
}

TEST(LRSchedulerCallback, PerBatchSteps) {
  Harness run;
  optim::ExponentialLR schedule(run.optimizer, {.gamma = 0.5});
  LRSchedulerCallback callback(schedule, {.per_batch = true});
  for (int b = 0; b < 3; ++b) callback.on_batch_end(run.state, b, {});
  run.end_epoch(callback, 0, {{"loss", 1.0}});  // no extra step at the epoch's end
  EXPECT_DOUBLE_EQ(run.optimizer.param_groups()[0].lr, 0.1 * 0.125);
}

}  // namespace
}  // namespace xgrad::train
