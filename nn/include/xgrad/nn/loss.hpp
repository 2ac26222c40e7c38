#pragma once
// Losses, as functions (nn::functional::mse_loss, ...) and as callable objects
// (nn::MSELoss, ...). Each is built from differentiable xgrad ops, so gradients of every order
// come for free; the log-probability losses go through the fused, stable log_softmax and
// softplus, so logits of +-1e4 give finite losses and gradients.
//   nn::CrossEntropyLoss loss({.label_smoothing = 0.1});
//   Tensor l = loss(logits, labels);            // logits [N, C], labels int64 [N]
//   nn::LossFn f = nn::CrossEntropyLoss();      // any loss converts to LossFn
#include <cstdint>
#include <functional>
#include <utility>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad::nn {

using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;

enum class Reduction { None, Mean, Sum };

// Options (field order as PyTorch's arguments, for designated initializers).
struct MSELossOptions {
  Reduction reduction = Reduction::Mean;
};
struct L1LossOptions {
  Reduction reduction = Reduction::Mean;
};
struct SmoothL1LossOptions {
  Reduction reduction = Reduction::Mean;
  double beta = 1.0;  // 0.5 d^2 / beta below beta, |d| - 0.5 beta above
};
struct HuberLossOptions {
  Reduction reduction = Reduction::Mean;
  double delta = 1.0;  // 0.5 d^2 below delta, delta (|d| - 0.5 delta) above
};
struct BCELossOptions {
  Tensor weight = {};  // optional, broadcasts to the input
  Reduction reduction = Reduction::Mean;
};
struct BCEWithLogitsLossOptions {
  Tensor weight = {};  // optional, broadcasts to the input
  Reduction reduction = Reduction::Mean;
  Tensor pos_weight = {};  // optional weight of the positive term, broadcasts (e.g. [C] for [N, C])
};
struct CrossEntropyLossOptions {
  Tensor weight = {};           // optional [C] class weights
  int64_t ignore_index = -100;  // class-index targets equal to it contribute nothing
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;  // in [0, 1]
};
struct NLLLossOptions {
  Tensor weight = {};  // optional [C] class weights
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
};

namespace functional {

// Elementwise losses: input and target have one shape.
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& options = {});
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& options = {});
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& options = {});
Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossOptions& options = {});
// input: probabilities in [0, 1]; each log is clamped at -100 as in PyTorch, so 0 and 1 are finite.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& options = {});
// input: logits. loss = (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), stable for any x.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& options = {});
// input: logits [N, C] (or [C], or [N, C, d1, ...]); target: int64 class indices [N] (or [], or
// [N, d1, ...]) or floating class probabilities of the input's shape. The mean of class-index
// targets divides by the summed weights of the targets that are not ignored, as PyTorch does.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& options = {});
// input: log-probabilities with the same layout as cross_entropy; target: int64 class indices.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options = {});

}  // namespace functional

// The loss objects: options fixed at construction, called like functions.
template <class OptionsT, Tensor (*kFunction)(const Tensor&, const Tensor&, const OptionsT&)>
class Loss {
 public:
  using Options = OptionsT;
  explicit Loss(Options options = {}) : options_(std::move(options)) {}
  Tensor operator()(const Tensor& input, const Tensor& target) const { return kFunction(input, target, options_); }
  const Options& options() const { return options_; }

 private:
  Options options_;
};

using MSELoss = Loss<MSELossOptions, functional::mse_loss>;
using L1Loss = Loss<L1LossOptions, functional::l1_loss>;
using SmoothL1Loss = Loss<SmoothL1LossOptions, functional::smooth_l1_loss>;
using HuberLoss = Loss<HuberLossOptions, functional::huber_loss>;
using BCELoss = Loss<BCELossOptions, functional::binary_cross_entropy>;
using BCEWithLogitsLoss = Loss<BCEWithLogitsLossOptions, functional::binary_cross_entropy_with_logits>;
using CrossEntropyLoss = Loss<CrossEntropyLossOptions, functional::cross_entropy>;
using NLLLoss = Loss<NLLLossOptions, functional::nll_loss>;

}  // namespace xgrad::nn
