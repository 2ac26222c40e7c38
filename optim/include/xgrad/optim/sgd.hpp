#pragma once
// Stochastic gradient descent with momentum (PyTorch's torch.optim.SGD).
#include <string>
#include <vector>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;  // needs momentum > 0 and dampening = 0
  bool maximize = false;
};

class SGD : public Optimizer {
 public:
  using Options = SGDOptions;
  explicit SGD(std::vector<Tensor> params, Options options = {});
  explicit SGD(std::vector<ParamGroup> groups, Options options = {});
  void step() override;
  const Options& options() const { return options_; }

 private:
  void check_group(const ParamGroup& group) const;
  Options options_;
};

}  // namespace xgrad::optim
