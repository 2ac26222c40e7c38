#pragma once
// Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), as PyTorch implements them.
// A group's `momentum` is its beta1 (so that OneCycleLR can cycle it).
#include <string>
#include <utility>
#include <vector>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.0;  // L2: added to the gradient
  bool amsgrad = false;
  bool maximize = false;
};

struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: p *= 1 - lr * weight_decay before the Adam step
  bool amsgrad = false;
  bool maximize = false;
};

class Adam : public Optimizer {
 public:
  using Options = AdamOptions;
  explicit Adam(std::vector<Tensor> params, Options options = {});
  explicit Adam(std::vector<ParamGroup> groups, Options options = {});
  void step() override;
  const Options& options() const { return options_; }

 protected:
  Adam(std::string name, std::vector<ParamGroup> groups, Options options, bool decoupled);

 private:
  void check_group(const ParamGroup& group) const;
  Options options_;
  bool decoupled_;
};

class AdamW : public Adam {
 public:
  using Options = AdamWOptions;
  explicit AdamW(std::vector<Tensor> params, Options options = {});
  explicit AdamW(std::vector<ParamGroup> groups, Options options = {});
};

}  // namespace xgrad::optim
