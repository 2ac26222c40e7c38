#include "xgrad/train/callbacks.hpp"

#include <cmath>
#include <iostream>
#include <limits>

#include "xgrad/io/model_io.hpp"
#include "xgrad/nn/module.hpp"
#include "xgrad/optim/scheduler.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::train {
namespace {

std::vector<Tensor> state_tensors(const nn::Module& model) {
  std::vector<Tensor> all = model.parameters();
  for (const Tensor& b : model.buffers()) all.push_back(b);
  return all;
}

}  // namespace

// ---- Monitor ------------------------------------------------------------------------------------

Monitor::Monitor(std::string metric, MonitorMode mode, double min_delta)
    : metric_(std::move(metric)),
      maximize_(mode == MonitorMode::Max || (mode == MonitorMode::Auto && metric_.find("acc") != std::string::npos)),
      min_delta_(std::abs(min_delta)) {
  if (metric_.empty()) throw ValueError("Monitor: the metric name is empty");
  reset();
}

void Monitor::reset() {
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
}

double Monitor::value(const Logs& logs, const char* who) const {
  const auto it = logs.find(metric_);
  if (it != logs.end()) return it->second;
  std::string known;
  for (const auto& [name, v] : logs) {
    (void)v;
    known += (known.empty() ? "" : ", ") + name;
  }
  throw ValueError(std::string(who) + ": the monitored metric '" + metric_ + "' is not in the logs (available: " +
                   known + ")" + (metric_.rfind("val_", 0) == 0 ? "; pass validation data to fit()" : ""));
}

bool Monitor::improved(double value) {
  if (std::isnan(value)) return false;
  const bool better = maximize_ ? value > best_ + min_delta_ : value < best_ - min_delta_;
  if (better) best_ = value;
  return better;
}

// ---- EarlyStopping ------------------------------------------------------------------------------

EarlyStopping::EarlyStopping(Options options)
    : options_(std::move(options)), monitor_(options_.monitor, options_.mode, options_.min_delta) {
  if (options_.patience < 0) throw ValueError("EarlyStopping: patience must be >= 0");
}

void EarlyStopping::on_train_begin(FitState& /*state*/) {
  monitor_.reset();
  wait_ = 0;
  stopped_epoch_ = best_epoch_ = -1;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(FitState& state, int64_t epoch, const Logs& logs) {
  if (monitor_.improved(monitor_.value(logs, "EarlyStopping"))) {
    wait_ = 0;
    best_epoch_ = epoch;
    if (options_.restore_best_weights) {
      best_weights_.clear();
      for (const Tensor& t : state_tensors(state.model)) best_weights_.push_back(t.array().clone());
    }
    return;
  }
  if (++wait_ >= options_.patience) {  // as Keras: patience 0 and 1 both stop at the first miss
    stopped_epoch_ = epoch;
    state.stop_training = true;
    if (options_.verbose)
      std::cout << "Epoch " << epoch + 1 << ": early stopping (" << monitor_.metric() << " has not improved for "
                << wait_ << " epochs)\n";
  }
}

void EarlyStopping::on_train_end(FitState& state) {
  if (!options_.restore_best_weights || best_weights_.empty() || best_epoch_ + 1 == state.history.epochs()) return;
  const std::vector<Tensor> tensors = state_tensors(state.model);
  if (tensors.size() != best_weights_.size())
    throw ValueError("EarlyStopping: the model's parameters changed during training");
  for (size_t i = 0; i < tensors.size(); ++i) {
    kernels::copy_(tensors[i].array(), best_weights_[i]);
    tensors[i].array().bump_version();
  }
  if (options_.verbose)
    std::cout << "Restoring the model weights from the end of the best epoch: " << best_epoch_ + 1 << "\n";
}

namespace {
// A saved counter back as an int64, or `fallback` when absent.
int64_t get_count(const std::map<std::string, double>& state, const char* key, int64_t fallback) {
  const auto it = state.find(key);
  if (it == state.end()) return fallback;
  if (!(it->second >= -1 && it->second <= 9007199254740992.0) || std::floor(it->second) != it->second)
    throw ValueError(std::string("callback state: '") + key + "' is not a whole number >= -1");
  return static_cast<int64_t>(it->second);
}
}  // namespace

std::map<std::string, double> EarlyStopping::state_dict() const {
  return {{"wait", static_cast<double>(wait_)},
          {"best", monitor_.best()},
          {"best_epoch", static_cast<double>(best_epoch_)}};
}
void EarlyStopping::load_state_dict(const std::map<std::string, double>& state) {
  wait_ = get_count(state, "wait", wait_);
  best_epoch_ = get_count(state, "best_epoch", best_epoch_);
  if (state.count("best")) monitor_.set_best(state.at("best"));
}

// ---- ModelCheckpoint ----------------------------------------------------------------------------

ModelCheckpoint::ModelCheckpoint(Options options)
    : options_(std::move(options)), monitor_(options_.monitor, options_.mode, 0.0) {
  if (options_.path.empty()) throw ValueError("ModelCheckpoint: the path is empty");
}

void ModelCheckpoint::on_train_begin(FitState& /*state*/) {
  monitor_.reset();
  best_epoch_ = -1;
}

void ModelCheckpoint::on_epoch_end(FitState& state, int64_t epoch, const Logs& logs) {
  if (options_.save_best_only) {
    const double value = monitor_.value(logs, "ModelCheckpoint");
    const double previous = monitor_.best();
    if (!monitor_.improved(value)) return;
    best_epoch_ = epoch;
    if (options_.verbose)
      std::cout << "Epoch " << epoch + 1 << ": " << monitor_.metric() << " improved from " << previous << " to "
                << value << ", saving the model to " << options_.path << "\n";
  }
  io::save_model(state.model, options_.path);
  ++saves_;
}

std::map<std::string, double> ModelCheckpoint::state_dict() const {
  return {{"best", monitor_.best()},
          {"best_epoch", static_cast<double>(best_epoch_)},
          {"saves", static_cast<double>(saves_)}};
}
void ModelCheckpoint::load_state_dict(const std::map<std::string, double>& state) {
  best_epoch_ = get_count(state, "best_epoch", best_epoch_);
  saves_ = get_count(state, "saves", saves_);
  if (state.count("best")) monitor_.set_best(state.at("best"));
}

// ---- LRSchedulerCallback ------------------------------------------------------------------------

LRSchedulerCallback::LRSchedulerCallback(optim::LRScheduler& scheduler, Options options)
    : scheduler_(scheduler), options_(std::move(options)) {}

void LRSchedulerCallback::on_epoch_end(FitState& /*state*/, int64_t /*epoch*/, const Logs& logs) {
  if (options_.per_batch) return;
  if (scheduler_.needs_metric()) {
    const Monitor monitor(options_.monitor, MonitorMode::Auto, 0.0);
    scheduler_.step(monitor.value(logs, "LRSchedulerCallback"));
  } else {
    scheduler_.step();
  }
}

void LRSchedulerCallback::on_batch_end(FitState& /*state*/, int64_t /*batch*/, const Logs& /*logs*/) {
  if (options_.per_batch) scheduler_.step();
}

std::map<std::string, double> LRSchedulerCallback::state_dict() const { return scheduler_.state_dict(); }
void LRSchedulerCallback::load_state_dict(const std::map<std::string, double>& state) {
  scheduler_.load_state_dict(state);
}

}  // namespace xgrad::train
