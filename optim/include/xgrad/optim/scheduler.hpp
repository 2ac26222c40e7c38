#pragma once
// Learning-rate schedulers, as PyTorch's torch.optim.lr_scheduler. A scheduler sets each group's lr
// (closed forms of the epoch count, from the lr each group had when the first scheduler was made);
// constructing one applies epoch 0, and step() advances one epoch (one batch for OneCycleLR).
//   optim::StepLR sched(opt, {.step_size = 10, .gamma = 0.1});
//   for (epoch...) { train(); sched.step(); }
//   optim::ReduceLROnPlateau plateau(opt, {.patience = 3});  plateau.step(val_loss);
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler();
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advance one epoch.
  void step() { advance(std::nullopt); }
  // Advance one epoch having measured `metric`; only ReduceLROnPlateau reads it.
  void step(double metric) { advance(metric); }
  // True when step() needs the metric (ReduceLROnPlateau), for training loops that drive any scheduler.
  virtual bool needs_metric() const { return false; }

  // The lr of each group after the last step (or construction).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  Optimizer& optimizer() const { return optimizer_; }

  // "last_epoch", "base_lrs.<g>" and each scheduler's own counters. The lrs themselves belong to
  // the optimizer's state: restore both to continue a run.
  std::map<std::string, double> state_dict() const;
  void load_state_dict(const std::map<std::string, double>& state);

 protected:
  explicit LRScheduler(Optimizer& optimizer);
  virtual void advance(std::optional<double> metric);
  // The lr of group `g` at `epoch`; closed-form schedulers override it.
  virtual double lr_at(int64_t /*epoch*/, size_t g) const { return base_lrs_[g]; }
  // Sets every group's lr to lr_at(last_epoch) and records it; derived constructors call it last.
  virtual void apply();
  void record_lrs();
  virtual void save_extra(std::map<std::string, double>&) const {}
  virtual void load_extra(const std::map<std::string, double>&) {}

  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  int64_t last_epoch_ = 0;
};

// lr = base * gamma^floor(epoch / step_size)
struct StepLROptions {
  int64_t step_size = 1;
  double gamma = 0.1;
};
class StepLR : public LRScheduler {
 public:
  using Options = StepLROptions;
  StepLR(Optimizer& optimizer, Options options);

 protected:
  double lr_at(int64_t epoch, size_t g) const override;

 private:
  Options options_;
};

// lr = base * gamma^(number of milestones <= epoch)
struct MultiStepLROptions {
  std::vector<int64_t> milestones = {};
  double gamma = 0.1;
};
class MultiStepLR : public LRScheduler {
 public:
  using Options = MultiStepLROptions;
  MultiStepLR(Optimizer& optimizer, Options options);

 protected:
  double lr_at(int64_t epoch, size_t g) const override;

 private:
  Options options_;
};

// lr = base * gamma^epoch
struct ExponentialLROptions {
  double gamma = 0.9;
};
class ExponentialLR : public LRScheduler {
 public:
  using Options = ExponentialLROptions;
  ExponentialLR(Optimizer& optimizer, Options options);

 protected:
  double lr_at(int64_t epoch, size_t g) const override;

 private:
  Options options_;
};

// lr = eta_min + (base - eta_min) (1 + cos(pi epoch / t_max)) / 2   (Loshchilov & Hutter, SGDR, eq. 5)
struct CosineAnnealingLROptions {
  int64_t t_max = 1;
  double eta_min = 0.0;
};
class CosineAnnealingLR : public LRScheduler {
 public:
  using Options = CosineAnnealingLROptions;
  CosineAnnealingLR(Optimizer& optimizer, Options options);

 protected:
  double lr_at(int64_t epoch, size_t g) const override;

 private:
  Options options_;
};

// Linear warm-up: lr = base * (start + (end - start) min(epoch, total_iters) / total_iters)
struct LinearLROptions {
  double start_factor = 1.0 / 3.0;
  double end_factor = 1.0;
  int64_t total_iters = 5;
};
class LinearLR : public LRScheduler {
 public:
  using Options = LinearLROptions;
  LinearLR(Optimizer& optimizer, Options options);

 protected:
  double lr_at(int64_t epoch, size_t g) const override;

 private:
  Options options_;
};

// The 1cycle policy (Smith & Topin, 2018), stepped once per batch: the lr rises from
// max_lr / div_factor to max_lr over pct_start of the steps, then anneals to
// max_lr / (div_factor * final_div_factor); momentum (or Adam's beta1) moves the opposite way.
enum class AnnealStrategy { Cos, Linear };
struct OneCycleLROptions {
  double max_lr = 0.0;
  int64_t total_steps = 0;  // or epochs * steps_per_epoch
  int64_t epochs = 0;
  int64_t steps_per_epoch = 0;
  double pct_start = 0.3;
  AnnealStrategy anneal_strategy = AnnealStrategy::Cos;
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  bool three_phase = false;
};
class OneCycleLR : public LRScheduler {
 public:
  using Options = OneCycleLROptions;
  OneCycleLR(Optimizer& optimizer, Options options);
  int64_t total_steps() const { return total_steps_; }

 protected:
  void advance(std::optional<double> metric) override;
  void apply() override;

 private:
  struct Phase {
    double end_step;
    double lr_start, lr_end;
    double momentum_start, momentum_end;
  };
  Options options_;
  int64_t total_steps_;
  std::vector<Phase> phases_;
};

// Divides the lr by 1/factor when the metric has not improved for `patience` epochs.
enum class PlateauMode { Min, Max };
enum class ThresholdMode { Rel, Abs };
struct ReduceLROnPlateauOptions {
  PlateauMode mode = PlateauMode::Min;
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  ThresholdMode threshold_mode = ThresholdMode::Rel;
  int64_t cooldown = 0;
  double min_lr = 0.0;
  double eps = 1e-8;  // smaller lr changes are skipped
};
class ReduceLROnPlateau : public LRScheduler {
 public:
  using Options = ReduceLROnPlateauOptions;
  explicit ReduceLROnPlateau(Optimizer& optimizer, Options options = {});
  bool needs_metric() const override { return true; }
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }

 protected:
  void advance(std::optional<double> metric) override;
  void save_extra(std::map<std::string, double>& state) const override;
  void load_extra(const std::map<std::string, double>& state) override;

 private:
  bool is_better(double value) const;
  Options options_;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
};

}  // namespace xgrad::optim
