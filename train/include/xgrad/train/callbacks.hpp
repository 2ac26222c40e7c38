#pragma once
// Callbacks: hooks fit() calls around epochs and batches, as Keras's. A callback reads the logs
// (per-epoch metrics by name) and may set state.stop_training. Three come with xgrad:
//   EarlyStopping        stop when a monitored metric stops improving (optionally restoring the
//                        best weights)
//   ModelCheckpoint      save the model (model.safetensors) whenever the monitored metric improves
//   LRSchedulerCallback  step an LR scheduler every epoch (or every batch), passing the monitored
//                        metric to the ones that need it (ReduceLROnPlateau)
//
//   auto stop = std::make_shared<train::EarlyStopping>(train::EarlyStopping::Options{
//       .monitor = "val_loss", .patience = 3, .restore_best_weights = true});
//   train::fit(model, loss, opt, data, {.epochs = 50, .validation_split = 0.1, .callbacks = {stop}});
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/train/history.hpp"

namespace xgrad::nn {
class Module;
}
namespace xgrad::optim {
class Optimizer;
class LRScheduler;
}  // namespace xgrad::optim

namespace xgrad::train {

// What a callback sees of the run.
struct FitState {
  nn::Module& model;
  optim::Optimizer& optimizer;
  const History& history;  // the epochs finished so far
  int64_t epochs = 0;      // planned
  int64_t batches_per_epoch = 0;
  int64_t steps = 0;           // optimizer steps taken so far (all epochs)
  bool stop_training = false;  // set to end the run (after the current batch's epoch is closed)
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(FitState& /*state*/) {}
  virtual void on_train_end(FitState& /*state*/) {}
  // Epochs and batches count from 0.
  virtual void on_epoch_begin(FitState& /*state*/, int64_t /*epoch*/) {}
  // logs: loss, accuracy, val_loss, val_accuracy (when measured), lr, seconds.
  virtual void on_epoch_end(FitState& /*state*/, int64_t /*epoch*/, const Logs& /*logs*/) {}
  // logs: the running loss and accuracy of the epoch so far, and the batch's own "batch_loss".
  virtual void on_batch_end(FitState& /*state*/, int64_t /*batch*/, const Logs& /*logs*/) {}
  // The callback's own state (counters, best values, a scheduler's state) for checkpoints: fit()
  // saves it with FitOptions::checkpoint_path and, when resuming, restores it after on_train_begin.
  virtual std::map<std::string, double> state_dict() const { return {}; }
  virtual void load_state_dict(const std::map<std::string, double>& /*state*/) {}
};

// Min: lower is better; Max: higher is better; Auto: Max for a metric whose name contains "acc",
// Min otherwise.
enum class MonitorMode { Auto, Min, Max };

// Tracks the best value of one metric.
class Monitor {
 public:
  Monitor(std::string metric, MonitorMode mode, double min_delta);
  // The metric from the logs; ValueError naming the available ones when it is missing.
  double value(const Logs& logs, const char* who) const;
  // True (and the value becomes the best) when it beats the best by more than min_delta.
  bool improved(double value);
  double best() const { return best_; }
  const std::string& metric() const { return metric_; }
  bool maximize() const { return maximize_; }
  void reset();
  void set_best(double best) { best_ = best; }

 private:
  std::string metric_;
  bool maximize_;
  double min_delta_;
  double best_;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;  // a smaller change is no improvement
  int64_t patience = 0;    // stop after this many epochs in a row without improvement (at least one)
  MonitorMode mode = MonitorMode::Auto;
  bool restore_best_weights = false;  // at the end, put back the weights of the best epoch
  bool verbose = false;               // say when it stops and restores (on std::cout)
};

class EarlyStopping : public Callback {
 public:
  using Options = EarlyStoppingOptions;
  explicit EarlyStopping(Options options = {});
  void on_train_begin(FitState& state) override;
  void on_epoch_end(FitState& state, int64_t epoch, const Logs& logs) override;
  void on_train_end(FitState& state) override;
  // wait, best, best_epoch (the best weights are not kept: a resumed run restores from its own best)
  std::map<std::string, double> state_dict() const override;
  void load_state_dict(const std::map<std::string, double>& state) override;

  int64_t stopped_epoch() const { return stopped_epoch_; }  // -1 when it did not stop the run
  int64_t best_epoch() const { return best_epoch_; }
  double best() const { return monitor_.best(); }

 private:
  Options options_;
  Monitor monitor_;
  int64_t wait_ = 0, stopped_epoch_ = -1, best_epoch_ = -1;
  std::vector<Array> best_weights_;  // copies of the model's parameters and buffers
};

struct ModelCheckpointOptions {
  std::string path = "model.safetensors";
  std::string monitor = "val_loss";
  MonitorMode mode = MonitorMode::Auto;
  bool save_best_only = true;  // false: save after every epoch
  bool verbose = false;
};

// Saves the model's state dict with io::save_model (safetensors, atomic).
class ModelCheckpoint : public Callback {
 public:
  using Options = ModelCheckpointOptions;
  explicit ModelCheckpoint(Options options = {});
  void on_train_begin(FitState& state) override;
  void on_epoch_end(FitState& state, int64_t epoch, const Logs& logs) override;
  std::map<std::string, double> state_dict() const override;  // best, best_epoch, saves
  void load_state_dict(const std::map<std::string, double>& state) override;
  int64_t best_epoch() const { return best_epoch_; }
  int64_t saves() const { return saves_; }

 private:
  Options options_;
  Monitor monitor_;
  int64_t best_epoch_ = -1, saves_ = 0;
};

struct LRSchedulerCallbackOptions {
  std::string monitor = "val_loss";  // passed to schedulers that need a metric
  bool per_batch = false;            // step after every batch (OneCycleLR) instead of every epoch
};

// The scheduler is borrowed: it must outlive the fit() call.
class LRSchedulerCallback : public Callback {
 public:
  using Options = LRSchedulerCallbackOptions;
  explicit LRSchedulerCallback(optim::LRScheduler& scheduler, Options options = {});
  void on_epoch_end(FitState& state, int64_t epoch, const Logs& logs) override;
  void on_batch_end(FitState& state, int64_t batch, const Logs& logs) override;
  // The scheduler's state_dict().
  std::map<std::string, double> state_dict() const override;
  void load_state_dict(const std::map<std::string, double>& state) override;

 private:
  optim::LRScheduler& scheduler_;
  Options options_;
};

}  // namespace xgrad::train
