#pragma once
// ProgressBar: one epoch's progress. On a terminal it redraws one line in place:
//   Epoch 3/20 [==========>.........]  52% 245/469  0:03<0:02  41210 samples/s  loss 0.3121  accuracy 0.8874
// and completes it with the validation metrics when the epoch ends. When output is not a terminal
// (a log file, a pipe, CI) it prints one plain line per epoch and nothing in between:
//   Epoch 3/20 - 469/469 - 6.1s - 41210 samples/s - loss 0.3121 - accuracy 0.8874 - val_loss ...
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "xgrad/train/history.hpp"

namespace xgrad::train {

// "0:07", "1:02:03" (h:mm:ss from an hour on); "?" for a negative or non-finite duration.
std::string format_duration(double seconds);
// True when std::cout is a terminal (isatty on stdout).
bool stdout_is_terminal();

struct ProgressOptions {
  int64_t epoch = 1;  // shown 1-based
  int64_t epochs = 1;
  int64_t total_batches = 0;
  int width = 30;             // characters of the bar
  bool tty = false;           // redraw in place (see stdout_is_terminal())
  double min_interval = 0.1;  // seconds between redraws on a terminal (the last one always draws)
};

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, ProgressOptions options);

  // After each batch: batches and samples done so far in this epoch, and the running metrics
  // (their order in `running` is the order shown; "loss" and "accuracy" are shown first).
  void update(int64_t batches_done, int64_t samples_done, const Logs& running);
  // At the end of the epoch, with everything measured (training and validation).
  void finish(const Logs& epoch_logs);

  double elapsed() const;  // seconds since construction

 private:
  std::string metrics_text(const Logs& logs, const char* separator) const;
  void draw(int64_t batches_done, int64_t samples_done, const Logs& running);

  std::ostream& out_;
  ProgressOptions options_;
  std::chrono::steady_clock::time_point start_;
  double last_draw_ = -1.0;
  int64_t batches_ = 0, samples_ = 0;
  Logs running_;
  size_t last_length_ = 0;
};

}  // namespace xgrad::train
