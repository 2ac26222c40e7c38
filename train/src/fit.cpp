#include "xgrad/train/fit.hpp"

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <numeric>
#include <optional>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/data/dataloader.hpp"
#include "xgrad/nn/module.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"
#include "xgrad/train/checkpoint.hpp"
#include "xgrad/train/progress.hpp"

namespace xgrad::train {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Puts the model's training flag back however the scope ends.
class TrainingFlag {
 public:
  explicit TrainingFlag(nn::Module& model) : model_(model), was_training_(model.is_training()) {}
  ~TrainingFlag() { model_.train(was_training_); }
  TrainingFlag(const TrainingFlag&) = delete;
  TrainingFlag& operator=(const TrainingFlag&) = delete;

 private:
  nn::Module& model_;
  bool was_training_;
};

// Running loss and accuracy over the batches of one pass.
class Scores {
 public:
  Scores(Accuracy& kind, double threshold) : kind_(kind), threshold_(threshold) {}

  void add(const Tensor& output, const Tensor& target, double batch_loss, int64_t n) {
    loss_sum_ += batch_loss * static_cast<double>(n);
    seen_ += n;
    if (kind_ == Accuracy::Auto) kind_ = resolve_accuracy(kind_, output, target);  // once, on the first batch
    if (kind_ == Accuracy::None) return;
    correct_ += count_correct(output, target, kind_, threshold_);
    scored_ += target.numel();
  }
  double loss() const { return seen_ ? loss_sum_ / static_cast<double>(seen_) : kNaN; }
  double accuracy() const { return scored_ ? static_cast<double>(correct_) / static_cast<double>(scored_) : kNaN; }
  bool has_accuracy() const { return kind_ != Accuracy::None && scored_ > 0; }
  int64_t seen() const { return seen_; }

 private:
  Accuracy& kind_;
  double threshold_;
  double loss_sum_ = 0;
  int64_t seen_ = 0, correct_ = 0, scored_ = 0;
};

int64_t examples_in(const data::Example& batch) { return batch.input.dim() > 0 ? batch.input.size(0) : 1; }

Evaluation run_evaluation(nn::Module& model, const nn::LossFn& loss, std::shared_ptr<const data::Dataset> data,
                          int64_t batch_size, Accuracy& kind, double threshold) {
  if (data->size() == 0) throw ValueError("evaluate: the dataset is empty");
  TrainingFlag restore(model);
  model.eval();
  NoGradGuard no_grad;
  data::DataLoader loader(std::move(data), {.batch_size = batch_size, .shuffle = false});
  Scores scores(kind, threshold);
  for (const data::Example& batch : loader) {
    const Tensor output = model(batch.input);
    scores.add(output, batch.target, loss(output, batch.target).item(), examples_in(batch));
  }
  return {scores.loss(), scores.has_accuracy() ? scores.accuracy() : kNaN};
}

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> r(static_cast<size_t>(end - begin));
  std::iota(r.begin(), r.end(), begin);
  return r;
}

std::string callback_prefix(size_t i) { return "callback." + std::to_string(i) + "/"; }

// The run's state after `epochs_done` epochs, callbacks included, into a checkpoint.
void save_run(const std::string& path, const FitState& state, const FitOptions& options, int64_t epochs_done) {
  Progress progress{.epoch = epochs_done, .step = state.steps, .history = state.history};
  for (size_t i = 0; i < options.callbacks.size(); ++i)
    for (const auto& [key, v] : options.callbacks[i]->state_dict()) progress.numbers[callback_prefix(i) + key] = v;
  save_checkpoint(path, state.model, &state.optimizer, nullptr, progress);
}

// Restores a saved run; returns the number of epochs it had finished.
int64_t resume_run(const std::string& path, FitState& state, History& history, const FitOptions& options) {
  Progress progress = load_checkpoint(path, state.model, &state.optimizer);
  history = std::move(progress.history);
  state.steps = progress.step;
  for (size_t i = 0; i < options.callbacks.size(); ++i) {
    std::map<std::string, double> saved;
    const std::string prefix = callback_prefix(i);
    for (const auto& [key, v] : progress.numbers)
      if (key.compare(0, prefix.size(), prefix) == 0) saved.emplace(key.substr(prefix.size()), v);
    options.callbacks[i]->load_state_dict(saved);
  }
  return progress.epoch;
}

}  // namespace

History fit(nn::Module& model, const nn::LossFn& loss, optim::Optimizer& optimizer, const data::Dataset& train_data,
            const FitOptions& options) {
  if (options.epochs < 1) throw ValueError("fit: epochs must be >= 1, got " + std::to_string(options.epochs));
  if (options.batch_size < 1)
    throw ValueError("fit: batch_size must be >= 1, got " + std::to_string(options.batch_size));
  if (!(options.validation_split >= 0.0 && options.validation_split < 1.0))
    throw ValueError("fit: validation_split must lie in [0, 1), got " + std::to_string(options.validation_split));
  if (!loss) throw ValueError("fit: the loss function is empty");

  // Keras's validation_split: the last examples, before shuffling.
  std::shared_ptr<const data::Dataset> train_set = data::borrow(train_data), val_set;
  if (options.validation_data) {
    val_set = data::borrow(*options.validation_data);
  } else if (options.validation_split > 0.0) {
    const int64_t n = train_data.size();
    const auto split_at = static_cast<int64_t>(static_cast<double>(n) * (1.0 - options.validation_split));
    if (split_at < 1 || split_at >= n)
      throw ValueError("fit: validation_split " + std::to_string(options.validation_split) + " of " +
                       std::to_string(n) + " examples leaves one part empty");
    val_set = std::make_shared<data::Subset>(train_set, range(split_at, n));
    train_set = std::make_shared<data::Subset>(train_set, range(0, split_at));
  }
  if (train_set->size() == 0) throw ValueError("fit: the training set is empty");

  data::DataLoader loader(train_set, {.batch_size = options.batch_size,
                                      .shuffle = options.shuffle,
                                      .seed = options.seed,
                                      .drop_last = options.drop_last,
                                      .prefetch = options.prefetch});
  const int64_t val_batch =
      options.validation_batch_size > 0 ? options.validation_batch_size : std::max<int64_t>(options.batch_size, 256);
  std::ostream& out = options.out ? *options.out : std::cout;
  const bool tty = options.verbose == 1 && options.out == nullptr && stdout_is_terminal();

  History history;
  FitState state{model, optimizer, history, options.epochs, loader.size()};
  TrainingFlag restore(model);
  Accuracy kind = options.accuracy;
  for (const auto& callback : options.callbacks) callback->on_train_begin(state);
  int64_t first_epoch = 0;
  if (!options.resume.empty()) {
    first_epoch = resume_run(options.resume, state, history, options);
    loader.set_epoch(first_epoch);  // the shuffle order of the epoch that comes next
  }

  for (int64_t epoch = first_epoch; epoch < options.epochs && !state.stop_training; ++epoch) {
    for (const auto& callback : options.callbacks) callback->on_epoch_begin(state, epoch);
    const double lr = optimizer.param_groups().empty() ? kNaN : optimizer.param_groups().front().lr;
    const auto start = std::chrono::steady_clock::now();
    std::optional<ProgressBar> bar;
    if (options.verbose > 0)
      bar.emplace(out, ProgressOptions{
                           .epoch = epoch + 1, .epochs = options.epochs, .total_batches = loader.size(), .tty = tty});

    model.train();
    Scores scores(kind, options.threshold);
    int64_t batch_index = 0;
    for (const data::Example& batch : loader) {
      optimizer.zero_grad();
      const Tensor output = model(batch.input);
      const Tensor batch_loss = loss(output, batch.target);
      batch_loss.backward();
      optimizer.step();
      ++state.steps;
      const double value = batch_loss.item();
      scores.add(output, batch.target, value, examples_in(batch));

      Logs running{{"loss", scores.loss()}};
      if (scores.has_accuracy()) running["accuracy"] = scores.accuracy();
      if (bar) bar->update(batch_index + 1, scores.seen(), running);
      if (!options.callbacks.empty()) {
        running["batch_loss"] = value;
        for (const auto& callback : options.callbacks) callback->on_batch_end(state, batch_index, running);
      }
      ++batch_index;
      if (state.stop_training) break;
    }

    Logs logs{{"loss", scores.loss()}};
    if (scores.has_accuracy()) logs["accuracy"] = scores.accuracy();
    if (val_set) {
      const Evaluation val = run_evaluation(model, loss, val_set, val_batch, kind, options.threshold);
      logs["val_loss"] = val.loss;
      if (!std::isnan(val.accuracy)) logs["val_accuracy"] = val.accuracy;
    }
    logs["lr"] = lr;
    logs["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    history.append(logs);
    if (bar) bar->finish(logs);
    for (const auto& callback : options.callbacks) callback->on_epoch_end(state, epoch, logs);
    if (!options.checkpoint_path.empty()) save_run(options.checkpoint_path, state, options, epoch + 1);
  }
  for (const auto& callback : options.callbacks) callback->on_train_end(state);
  return history;
}

Evaluation evaluate(nn::Module& model, const nn::LossFn& loss, const data::Dataset& data,
                    const EvaluateOptions& options) {
  if (options.batch_size < 1) throw ValueError("evaluate: batch_size must be >= 1");
  if (!loss) throw ValueError("evaluate: the loss function is empty");
  Accuracy kind = options.accuracy;
  return run_evaluation(model, loss, data::borrow(data), options.batch_size, kind, options.threshold);
}

Tensor predict(nn::Module& model, const Tensor& inputs, int64_t batch_size) {
  if (!inputs.defined() || inputs.dim() == 0) throw ShapeError("predict: expected inputs [N, ...]");
  if (batch_size < 1) throw ValueError("predict: batch_size must be >= 1");
  TrainingFlag restore(model);
  model.eval();
  NoGradGuard no_grad;
  std::vector<Array> outputs;
  const int64_t n = inputs.size(0);
  for (int64_t start = 0; start < n; start += batch_size)
    outputs.push_back(model(Tensor(inputs.array().slice(0, start, std::min(start + batch_size, n)))).array());
  if (outputs.empty()) throw ValueError("predict: no inputs (N = 0)");
  return Tensor(outputs.size() == 1 ? outputs[0] : kernels::cat(outputs, 0));
}

Tensor predict(nn::Module& model, const data::Dataset& data, int64_t batch_size) {
  if (batch_size < 1) throw ValueError("predict: batch_size must be >= 1");
  if (data.size() == 0) throw ValueError("predict: the dataset is empty");
  TrainingFlag restore(model);
  model.eval();
  NoGradGuard no_grad;
  std::vector<Array> outputs;
  data::DataLoader loader(data, {.batch_size = batch_size});
  for (const data::Example& batch : loader) outputs.push_back(model(batch.input).array());
  return Tensor(outputs.size() == 1 ? outputs[0] : kernels::cat(outputs, 0));
}

}  // namespace xgrad::train
