// save_checkpoint / load_checkpoint: gathers the run's state into io::CheckpointData and back.
#include "xgrad/train/checkpoint.hpp"

#include <cmath>

#include "xgrad/io/checkpoint_file.hpp"
#include "xgrad/nn/module.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/optim/scheduler.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"
#include "xgrad/tensor/random.hpp"

namespace xgrad::train {
namespace {

constexpr const char* kOptimizerPrefix = "optimizer/";
constexpr const char* kSchedulerPrefix = "scheduler/";
constexpr const char* kUserPrefix = "user/";
constexpr const char* kRng = "rng/default";

// Counts come back as doubles: they must be whole, non-negative and exact in a double.
int64_t count(const std::string& path, const std::string& key, double v) {
  if (!(v >= 0 && v <= 9007199254740992.0) || std::floor(v) != v)
    throw IOError("load_checkpoint: " + path + ": entry '" + key + "' must be a whole number >= 0");
  return static_cast<int64_t>(v);
}

// The entries of `numbers` under `prefix`, with the prefix removed.
std::map<std::string, double> section(const std::map<std::string, double>& numbers, const std::string& prefix) {
  std::map<std::string, double> out;
  for (auto it = numbers.lower_bound(prefix); it != numbers.end() && it->first.compare(0, prefix.size(), prefix) == 0;
       ++it)
    out.emplace(it->first.substr(prefix.size()), it->second);
  return out;
}

bool is_count_key(const std::string& key) {
  const auto ends = [&key](const std::string& suffix) {
    return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends(".step") || ends(".size") || ends("last_epoch");
}

}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                     const optim::LRScheduler* scheduler, const Progress& progress) {
  io::CheckpointData data;
  data.model = model.state_dict();
  data.numbers["epoch"] = static_cast<double>(progress.epoch);
  data.numbers["step"] = static_cast<double>(progress.step);
  if (optimizer) {
    optim::OptimizerState state = optimizer->state_dict();
    data.optimizer = std::move(state.tensors);
    for (const auto& [key, v] : state.scalars) data.numbers[kOptimizerPrefix + key] = v;
  }
  if (scheduler)
    for (const auto& [key, v] : scheduler->state_dict()) data.numbers[kSchedulerPrefix + key] = v;
  for (const auto& [key, v] : progress.numbers) data.numbers[kUserPrefix + key] = v;
  for (const auto& [key, text] : progress.texts) data.texts[kUserPrefix + key] = text;
  data.texts[kRng] = default_generator().state();
  for (const std::string& name : progress.history.names()) data.history.emplace_back(name, progress.history[name]);
  io::save_checkpoint_file(path, data);
}

Progress load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer* optimizer,
                         optim::LRScheduler* scheduler) {
  io::CheckpointData data = io::load_checkpoint_file(path);  // every byte checked here

  // Check what the objects will not check themselves, before changing anything.
  Progress progress;
  const auto number = [&](const std::string& key) {
    const auto it = data.numbers.find(key);
    if (it == data.numbers.end()) throw IOError("load_checkpoint: " + path + ": no entry '" + key + "'");
    return it->second;
  };
  progress.epoch = count(path, "epoch", number("epoch"));
  progress.step = count(path, "step", number("step"));
  for (const auto& [key, v] : data.numbers)
    if (is_count_key(key)) count(path, key, v);
  const std::map<std::string, double> optimizer_numbers = section(data.numbers, kOptimizerPrefix);
  const std::map<std::string, double> scheduler_numbers = section(data.numbers, kSchedulerPrefix);
  if (optimizer && optimizer_numbers.empty())
    throw IOError("load_checkpoint: " + path + ": the file holds no optimizer state");
  if (scheduler && scheduler_numbers.empty())
    throw IOError("load_checkpoint: " + path + ": the file holds no LR scheduler state");
  const auto rng = data.texts.find(kRng);
  if (rng == data.texts.end()) throw IOError("load_checkpoint: " + path + ": no entry '" + kRng + "'");
  Generator restored_rng;
  try {
    restored_rng.set_state(rng->second);
  } catch (const ValueError&) {
    throw IOError("load_checkpoint: " + path + ": entry '" + kRng + "' is not a generator state");
  }
  std::vector<std::string> names;
  std::vector<std::vector<double>> series;
  for (auto& [name, values] : data.history) {
    names.push_back(name);
    series.push_back(std::move(values));
  }
  progress.history = History::from_series(names, series);

  // Apply: the model first (it checks itself whole), then the rest; on failure put the model back.
  std::vector<Array> backup;
  for (const auto& entry : model.state_dict()) backup.push_back(entry.second.array().clone());
  model.load_state_dict(data.model, /*strict=*/true);
  try {
    if (optimizer) optimizer->load_state_dict({std::move(data.optimizer), optimizer_numbers});
    if (scheduler) scheduler->load_state_dict(scheduler_numbers);
  } catch (...) {
    const nn::StateDict current = model.state_dict();
    for (size_t i = 0; i < current.size(); ++i) kernels::copy_(current[i].second.array(), backup[i]);
    throw;
  }
  default_generator() = restored_rng;
  for (const auto& [key, v] : section(data.numbers, kUserPrefix)) progress.numbers[key] = v;
  for (const auto& [key, text] : data.texts)
    if (key.compare(0, 5, kUserPrefix) == 0) progress.texts[key.substr(5)] = text;
  return progress;
}

}  // namespace xgrad::train
