#include "xgrad/train/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <vector>

#include <unistd.h>

#include "xgrad/tensor/error.hpp"

namespace xgrad::train {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string general(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// The order metrics are shown in: loss and accuracy first, then validation, the rest by name,
// the learning rate last; the epoch's seconds are shown apart.
std::vector<std::string> display_order(const Logs& logs) {
  std::vector<std::string> order;
  for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"})
    if (logs.count(key)) order.emplace_back(key);
  for (const auto& [name, value] : logs) {
    (void)value;
    if (std::find(order.begin(), order.end(), name) == order.end() && name != "lr" && name != "seconds")
      order.push_back(name);
  }
  if (logs.count("lr")) order.emplace_back("lr");
  return order;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  const int64_t h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buf[48];
  if (h > 0)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(h), static_cast<long long>(m),
                  static_cast<long long>(s));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(m), static_cast<long long>(s));
  return buf;
}

bool stdout_is_terminal() { return ::isatty(::fileno(stdout)) != 0; }

ProgressBar::ProgressBar(std::ostream& out, ProgressOptions options)
    : out_(out), options_(options), start_(std::chrono::steady_clock::now()) {
  if (options_.total_batches < 0) throw ValueError("ProgressBar: total_batches must be >= 0");
  if (options_.width < 1) throw ValueError("ProgressBar: width must be >= 1");
}

double ProgressBar::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressBar::metrics_text(const Logs& logs, const char* separator) const {
  std::string text;
  for (const std::string& name : display_order(logs)) {
    const double v = logs.at(name);
    if (std::isnan(v)) continue;
    text += separator + name + " " + (name == "lr" ? general(v) : fixed(v, 4));
  }
  return text;
}

void ProgressBar::update(int64_t batches_done, int64_t samples_done, const Logs& running) {
  batches_ = batches_done;
  samples_ = samples_done;
  running_ = running;
  if (!options_.tty) return;
  const double now = elapsed();
  if (batches_done < options_.total_batches && last_draw_ >= 0 && now - last_draw_ < options_.min_interval) return;
  last_draw_ = now;
  draw(batches_done, samples_done, running);
  out_.flush();
}

void ProgressBar::draw(int64_t batches_done, int64_t samples_done, const Logs& running) {
  const double t = elapsed();
  const int64_t total = options_.total_batches;
  const double done =
      total > 0 ? std::clamp(static_cast<double>(batches_done) / static_cast<double>(total), 0.0, 1.0) : 1.0;
  const auto filled = static_cast<int>(done * options_.width);
  std::string bar(static_cast<size_t>(options_.width), '.');
  std::fill(bar.begin(), bar.begin() + filled, '=');
  if (filled < options_.width && filled > 0) bar[static_cast<size_t>(filled)] = '>';
  const double eta =
      batches_done > 0 ? t / static_cast<double>(batches_done) * static_cast<double>(total - batches_done) : -1.0;
  char head[160];
  std::snprintf(head, sizeof head, "Epoch %lld/%lld [%s] %3d%% %lld/%lld  %s<%s  %.0f samples/s",
                static_cast<long long>(options_.epoch), static_cast<long long>(options_.epochs), bar.c_str(),
                static_cast<int>(std::floor(done * 100)), static_cast<long long>(batches_done),
                static_cast<long long>(total), format_duration(t).c_str(), format_duration(eta).c_str(),
                t > 0 ? static_cast<double>(samples_done) / t : 0.0);
  std::string line = head + metrics_text(running, "  ");
  const size_t length = line.size();
  if (length < last_length_) line.append(last_length_ - length, ' ');  // wipe the tail of a longer line
  last_length_ = length;
  out_ << '\r' << line;
}

void ProgressBar::finish(const Logs& epoch_logs) {
  const double t = elapsed();
  if (options_.tty) {
    Logs shown = epoch_logs;
    shown.erase("lr");
    draw(options_.total_batches, samples_, shown);
    out_ << '\n';
  } else {
    char head[160];
    std::snprintf(head, sizeof head, "Epoch %lld/%lld - %lld/%lld - %.1fs - %.0f samples/s",
                  static_cast<long long>(options_.epoch), static_cast<long long>(options_.epochs),
                  static_cast<long long>(batches_), static_cast<long long>(options_.total_batches), t,
                  t > 0 ? static_cast<double>(samples_) / t : 0.0);
    out_ << head << metrics_text(epoch_logs, " - ") << '\n';
  }
  out_.flush();
}

}  // namespace xgrad::train
