#pragma once
// History: what fit() measured, one value per epoch and metric, as Keras's History.history.
//   History h = train::fit(...);
//   h["val_accuracy"].back();   h.to_csv("runs/x/history.csv");
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace xgrad::train {

// Metric values by name, as callbacks receive them ("loss", "accuracy", "val_loss", "lr", ...).
using Logs = std::map<std::string, double>;

class History {
 public:
  // Appends one epoch. A metric first seen now gets NaN for the earlier epochs, and a known metric
  // missing from `logs` gets NaN for this one, so every series has epochs() values.
  void append(const Logs& logs);
  // A history from its series (one value per epoch each, all the same length; ValueError
  // otherwise), names in the given order: how checkpoints restore one.
  static History from_series(const std::vector<std::string>& names, const std::vector<std::vector<double>>& series);

  int64_t epochs() const { return epochs_; }
  bool empty() const { return epochs_ == 0; }
  bool has(const std::string& name) const;
  // The metric names in the order first seen (within one epoch: loss, accuracy, val_loss,
  // val_accuracy, the others by name, lr, seconds).
  const std::vector<std::string>& names() const { return names_; }
  // The series of one metric; ValueError naming the known metrics when there is none.
  const std::vector<double>& operator[](const std::string& name) const;
  const std::vector<double>& at(const std::string& name) const { return (*this)[name]; }

  // A CSV file: a header "epoch,<names...>", then one row per epoch (epochs count from 1; a NaN is
  // an empty cell). IOError when the file cannot be written.
  void to_csv(const std::string& path) const;
  std::string to_csv_string() const;

 private:
  std::vector<std::string> names_;
  std::map<std::string, std::vector<double>> series_;
  int64_t epochs_ = 0;
};

}  // namespace xgrad::train
