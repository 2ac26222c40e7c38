#pragma once
// Linear: y = x W^T + b, with PyTorch's layout (weight [out, in], bias [out]) and initialisation
// (kaiming_uniform_(a = sqrt(5)) for W, uniform(-1/sqrt(in), 1/sqrt(in)) for b), so weights move
// between the two frameworks unchanged.
#include <cstdint>
#include <string>

#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

class Linear : public Module {
 public:
  struct Options {
    int64_t in = 0;   // input features
    int64_t out = 0;  // output features
    bool bias = true;
  };
  Linear() = default;  // an empty layer, to be assigned later (a model's member before registration)
  explicit Linear(Options options);
  Linear(int64_t in, int64_t out, bool with_bias = true) : Linear(Options{in, out, with_bias}) {}

  // x: [..., in] -> [..., out]
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  std::string extra_repr() const override;
  // Draws fresh initial values (from the default generator), in place.
  void reset_parameters();
  const Options& options() const { return options_; }

  Tensor weight;  // [out, in]
  Tensor bias;    // [out], undefined without bias

 private:
  Options options_;
};

}  // namespace xgrad::nn
