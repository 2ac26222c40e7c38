#pragma once
// RMSprop (Hinton's lecture 6e; centered form of Graves, 2013), as PyTorch implements it.
#include <vector>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;  // smoothing of the squared-gradient average
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;  // divide by an estimate of the variance rather than the second moment
  bool maximize = false;
};

class RMSprop : public Optimizer {
 public:
  using Options = RMSpropOptions;
  explicit RMSprop(std::vector<Tensor> params, Options options = {});
  explicit RMSprop(std::vector<ParamGroup> groups, Options options = {});
  void step() override;
  const Options& options() const { return options_; }

 private:
  void check_group(const ParamGroup& group) const;
  Options options_;
};

}  // namespace xgrad::optim
