#pragma once
// Dropout (inverted): in training mode each element is zeroed with probability p and the survivors
// are scaled by 1 / (1 - p), so that evaluation (identity) needs no rescaling. Draws from
// default_generator(), so manual_seed() makes it reproducible.
#include <string>

#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  std::string extra_repr() const override;
  double p() const { return p_; }

 private:
  double p_;
};

// Dropout2d (channel dropout): in training mode each whole channel of [N, C, H, W] (or unbatched
// [C, H, W]) is zeroed with probability p and the survivors are scaled by 1 / (1 - p); the
// identity in evaluation. Draws one number per channel from default_generator().
class Dropout2d : public Module {
 public:
  explicit Dropout2d(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout2d"; }
  std::string extra_repr() const override;
  double p() const { return p_; }

 private:
  double p_;
};

}  // namespace xgrad::nn
