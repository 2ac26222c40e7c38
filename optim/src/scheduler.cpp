#include "xgrad/optim/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace xgrad::optim {

// ---- base ------------------------------------------------------------------------------------------------

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (ParamGroup& g : optimizer.param_groups()) {
    if (g.initial_lr < 0) g.initial_lr = g.lr;  // the first scheduler fixes where schedules start
    base_lrs_.push_back(g.initial_lr);
  }
  record_lrs();
}

LRScheduler::~LRScheduler() = default;

void LRScheduler::record_lrs() {
  last_lr_.clear();
  for (const ParamGroup& g : optimizer_.param_groups()) last_lr_.push_back(g.lr);
}

void LRScheduler::advance(std::optional<double>) {
  ++last_epoch_;
  apply();
}

void LRScheduler::apply() {
  auto& groups = optimizer_.param_groups();
  if (groups.size() != base_lrs_.size())
    throw ValueError("LRScheduler: the optimizer has " + std::to_string(groups.size()) +
                     " parameter groups, the scheduler was made for " + std::to_string(base_lrs_.size()));
  for (size_t g = 0; g < groups.size(); ++g) groups[g].lr = lr_at(last_epoch_, g);
  record_lrs();
}

std::map<std::string, double> LRScheduler::state_dict() const {
  std::map<std::string, double> state{{"last_epoch", static_cast<double>(last_epoch_)}};
  for (size_t g = 0; g < base_lrs_.size(); ++g) state["base_lrs." + std::to_string(g)] = base_lrs_[g];
  save_extra(state);
  return state;
}

void LRScheduler::load_state_dict(const std::map<std::string, double>& state) {
  auto get = [&state](const std::string& key) {
    auto it = state.find(key);
    if (it == state.end()) throw ValueError("LRScheduler::load_state_dict: the state has no '" + key + "'");
    return it->second;
  };
  std::vector<double> base(base_lrs_.size());
  for (size_t g = 0; g < base.size(); ++g) base[g] = get("base_lrs." + std::to_string(g));
  last_epoch_ = static_cast<int64_t>(get("last_epoch"));
  base_lrs_ = std::move(base);
  load_extra(state);
  record_lrs();
}

// ---- closed forms ------------------------------------------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, Options options) : LRScheduler(optimizer), options_(options) {
  if (options.step_size <= 0)
    throw ValueError("StepLR: step_size must be positive, got " + std::to_string(options.step_size));
  apply();
}
double StepLR::lr_at(int64_t epoch, size_t g) const {
  return base_lrs_[g] * std::pow(options_.gamma, static_cast<double>(epoch / options_.step_size));
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, Options options) : LRScheduler(optimizer), options_(std::move(options)) {
  if (!std::is_sorted(options_.milestones.begin(), options_.milestones.end()))
    throw ValueError("MultiStepLR: milestones must be increasing");
  apply();
}
double MultiStepLR::lr_at(int64_t epoch, size_t g) const {
  const auto passed =
      std::upper_bound(options_.milestones.begin(), options_.milestones.end(), epoch) - options_.milestones.begin();
  return base_lrs_[g] * std::pow(options_.gamma, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, Options options) : LRScheduler(optimizer), options_(options) {
  apply();
}
double ExponentialLR::lr_at(int64_t epoch, size_t g) const {
  return base_lrs_[g] * std::pow(options_.gamma, static_cast<double>(epoch));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, Options options)
    : LRScheduler(optimizer), options_(options) {
  if (options.t_max <= 0)
    throw ValueError("CosineAnnealingLR: t_max must be positive, got " + std::to_string(options.t_max));
  apply();
}
double CosineAnnealingLR::lr_at(int64_t epoch, size_t g) const {
  const double cosine = std::cos(std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(options_.t_max));
  return options_.eta_min + (base_lrs_[g] - options_.eta_min) * (1.0 + cosine) / 2.0;
}

LinearLR::LinearLR(Optimizer& optimizer, Options options) : LRScheduler(optimizer), options_(options) {
  if (!(options.start_factor > 0 && options.start_factor <= 1))
    throw ValueError("LinearLR: start_factor must be in (0, 1], got " + std::to_string(options.start_factor));
  if (!(options.end_factor >= 0 && options.end_factor <= 1))
    throw ValueError("LinearLR: end_factor must be in [0, 1], got " + std::to_string(options.end_factor));
  if (options.total_iters <= 0)
    throw ValueError("LinearLR: total_iters must be positive, got " + std::to_string(options.total_iters));
  apply();
}
double LinearLR::lr_at(int64_t epoch, size_t g) const {
  const double progress =
      static_cast<double>(std::min(epoch, options_.total_iters)) / static_cast<double>(options_.total_iters);
  return base_lrs_[g] * (options_.start_factor + (options_.end_factor - options_.start_factor) * progress);
}

// ---- OneCycleLR ---------------------------------------------------------------------------------------------

OneCycleLR::OneCycleLR(Optimizer& optimizer, Options options) : LRScheduler(optimizer), options_(options) {
  const auto& o = options_;
  if (o.total_steps > 0)
    total_steps_ = o.total_steps;
  else if (o.epochs > 0 && o.steps_per_epoch > 0)
    total_steps_ = o.epochs * o.steps_per_epoch;
  else
    throw ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch (all positive)");
  if (!(o.max_lr > 0)) throw ValueError("OneCycleLR: max_lr must be positive, got " + std::to_string(o.max_lr));
  if (!(o.pct_start >= 0 && o.pct_start <= 1))
    throw ValueError("OneCycleLR: pct_start must be in [0, 1], got " + std::to_string(o.pct_start));
  if (o.cycle_momentum && !optimizer.has_momentum())
    throw ValueError("OneCycleLR: " + optimizer.name() +
                     " has no momentum or beta1 to cycle; pass cycle_momentum = false");
  const double initial = o.max_lr / o.div_factor, min_lr = initial / o.final_div_factor;
  const double pct = o.pct_start * static_cast<double>(total_steps_);
  const double last = static_cast<double>(total_steps_) - 1;
  if (o.three_phase)
    phases_ = {{pct - 1, initial, o.max_lr, o.max_momentum, o.base_momentum},
               {2 * pct - 2, o.max_lr, initial, o.base_momentum, o.max_momentum},
               {last, initial, min_lr, o.max_momentum, o.max_momentum}};
  else
    phases_ = {{pct - 1, initial, o.max_lr, o.max_momentum, o.base_momentum},
               {last, o.max_lr, min_lr, o.base_momentum, o.max_momentum}};
  for (size_t g = 0; g < base_lrs_.size(); ++g) {
    optimizer.param_groups()[g].initial_lr = initial;
    base_lrs_[g] = initial;
  }
  apply();
}

void OneCycleLR::advance(std::optional<double>) {
  if (last_epoch_ + 1 > total_steps_)
    throw ValueError("OneCycleLR: tried to step " + std::to_string(last_epoch_ + 1) +
                     " times; the schedule has total_steps = " + std::to_string(total_steps_));
  ++last_epoch_;
  apply();
}

void OneCycleLR::apply() {
  auto anneal = [this](double start, double end, double pct) {
    if (options_.anneal_strategy == AnnealStrategy::Linear) return (end - start) * pct + start;
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
  };
  const double step = static_cast<double>(last_epoch_);
  double start_step = 0, lr = 0, momentum = 0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& ph = phases_[i];
    if (step <= ph.end_step || i + 1 == phases_.size()) {
      const double pct = (step - start_step) / (ph.end_step - start_step);
      lr = anneal(ph.lr_start, ph.lr_end, pct);
      momentum = anneal(ph.momentum_start, ph.momentum_end, pct);
      break;
    }
    start_step = ph.end_step;
  }
  for (ParamGroup& g : optimizer_.param_groups()) {
    g.lr = lr;
    if (options_.cycle_momentum) g.momentum = momentum;
  }
  record_lrs();
}

// ---- ReduceLROnPlateau -------------------------------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, Options options)
    : LRScheduler(optimizer),
      options_(options),
      best_(options.mode == PlateauMode::Min ? std::numeric_limits<double>::infinity()
                                             : -std::numeric_limits<double>::infinity()) {
  if (!(options.factor < 1.0 && options.factor >= 0))
    throw ValueError("ReduceLROnPlateau: factor must be in [0, 1), got " + std::to_string(options.factor));
  if (options.patience < 0 || options.cooldown < 0)
    throw ValueError("ReduceLROnPlateau: patience and cooldown must be non-negative");
}

bool ReduceLROnPlateau::is_better(double value) const {
  const double t = options_.threshold;
  const bool rel = options_.threshold_mode == ThresholdMode::Rel;
  if (options_.mode == PlateauMode::Min) return rel ? value < best_ * (1.0 - t) : value < best_ - t;
  return rel ? value > best_ * (1.0 + t) : value > best_ + t;
}

void ReduceLROnPlateau::advance(std::optional<double> metric) {
  if (!metric) throw ValueError("ReduceLROnPlateau: step() needs the monitored metric: call step(metric)");
  ++last_epoch_;
  if (is_better(*metric)) {
    best_ = *metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs during cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience) {
    for (ParamGroup& g : optimizer_.param_groups()) {
      const double reduced = std::max(g.lr * options_.factor, options_.min_lr);
      if (g.lr - reduced > options_.eps) g.lr = reduced;
    }
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  record_lrs();
}

void ReduceLROnPlateau::save_extra(std::map<std::string, double>& state) const {
  state["best"] = best_;
  state["num_bad_epochs"] = static_cast<double>(num_bad_epochs_);
  state["cooldown_counter"] = static_cast<double>(cooldown_counter_);
}

void ReduceLROnPlateau::load_extra(const std::map<std::string, double>& state) {
  auto get = [&state](const char* key) {
    auto it = state.find(key);
    if (it == state.end())
      throw ValueError(std::string("ReduceLROnPlateau::load_state_dict: the state has no '") + key + "'");
    return it->second;
  };
  best_ = get("best");
  num_bad_epochs_ = static_cast<int64_t>(get("num_bad_epochs"));
  cooldown_counter_ = static_cast<int64_t>(get("cooldown_counter"));
}

}  // namespace xgrad::optim
