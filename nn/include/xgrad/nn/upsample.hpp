#pragma once
// Upsample: resizes [N, C, H, W] to a size or by a scale factor, nearest or bilinear, as
// torch.nn.Upsample (align_corners for bilinear only).
//   nn::Upsample({.scale_factor = 2.0})
//   nn::Upsample({.size = {28, 28}, .mode = UpsampleMode::Bilinear, .align_corners = true})
#include <optional>
#include <string>

#include "xgrad/nn/functional_conv.hpp"
#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

class Upsample : public Module {
 public:
  using Options = functional::InterpolateFuncOptions;
  explicit Upsample(Options options);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Upsample"; }
  // "scale_factor=2.0, mode='nearest'" or "size=(28, 28), mode='bilinear'"
  std::string extra_repr() const override;
  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace xgrad::nn
