#pragma once
// Adagrad (Duchi, Hazan & Singer, 2011), as PyTorch implements it.
#include <vector>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0.0;  // lr_t = lr / (1 + (t - 1) lr_decay)
  double weight_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;
  bool maximize = false;
};

class Adagrad : public Optimizer {
 public:
  using Options = AdagradOptions;
  explicit Adagrad(std::vector<Tensor> params, Options options = {});
  explicit Adagrad(std::vector<ParamGroup> groups, Options options = {});
  void step() override;
  bool has_momentum() const override { return false; }
  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace xgrad::optim
