#pragma once
// Recording switches. Grad mode is per thread, so graphs built on different threads are
// independent; anomaly mode is per thread too.
namespace xgrad {

bool is_grad_enabled();
void set_grad_enabled(bool enabled);

// RAII: nothing recorded inside the scope (optimizer steps, evaluation).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// RAII: the opposite, recording on (inside a no-grad region).
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// Anomaly mode: every op's forward output and every backward gradient is checked, and the
// first NaN or Inf throws AnomalyError naming the op that produced it.
bool is_anomaly_enabled();
void set_anomaly_enabled(bool enabled);

class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard();
  ~DetectAnomalyGuard();
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace xgrad
