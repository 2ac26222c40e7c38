// The losses, as compositions of differentiable xgrad ops (so second order works too). Targets and
// class weights are constants: integer targets are scanned once here to check their range and to
// build per-sample weights, which enter the graph as constant tensors.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "xgrad/nn/functional.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::nn::functional {

namespace {

std::string dtype_str(const Tensor& t) { return std::string(dtype_name(t.dtype())); }

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return loss;
    case Reduction::Sum: return sum(loss);
    case Reduction::Mean: break;
  }
  return mean(loss);
}

void check_defined(const char* op, const Tensor& input, const Tensor& target) {
  if (!input.defined() || !target.defined()) throw ValueError(std::string(op) + ": undefined input or target");
}

void check_floating(const char* op, const char* what, const Tensor& t) {
  if (!t.is_floating_point())
    throw DTypeError(std::string(op) + ": " + what + " must be floating (float32 or float64), got " + dtype_str(t));
}

// Elementwise losses compare tensors of one shape.
void check_pair(const char* op, const Tensor& input, const Tensor& target) {
  check_defined(op, input, target);
  check_floating(op, "input", input);
  check_floating(op, "target", target);
  if (input.shape() != target.shape())
    throw ShapeError(std::string(op) + ": input shape " + to_string(input.shape()) + " and target shape " +
                     to_string(target.shape()) + " differ");
}

Tensor weighted(const Tensor& loss, const Tensor& weight) { return weight.defined() ? loss * weight.detach() : loss; }

// log(x) clamped below at -100 as PyTorch's BCE does. The inner where keeps log and its backward
// finite where x is (nearly) 0; the outer one gives those elements -100 and a zero gradient.
Tensor clamped_log(const Tensor& x) {
  const double threshold = std::exp(-100.0);
  const Tensor ok = x > threshold;
  const Tensor one = scalar_tensor(1.0, {.dtype = x.dtype()});
  return where(ok, log(where(ok, x, one)), scalar_tensor(-100.0, {.dtype = x.dtype()}));
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& options) {
  check_pair("mse_loss", input, target);
  return reduce(square(input - target), options.reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& options) {
  check_pair("l1_loss", input, target);
  return reduce(abs(input - target), options.reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& options) {
  check_pair("smooth_l1_loss", input, target);
  const double beta = options.beta;
  if (!(beta >= 0)) throw ValueError("smooth_l1_loss: beta must be non-negative, got " + std::to_string(beta));
  const Tensor d = input - target;
  const Tensor ad = abs(d);
  if (beta == 0) return reduce(ad, options.reduction);
  return reduce(where(ad < beta, square(d) * (0.5 / beta), ad - 0.5 * beta), options.reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossOptions& options) {
  check_pair("huber_loss", input, target);
  const double delta = options.delta;
  if (!(delta > 0)) throw ValueError("huber_loss: delta must be positive, got " + std::to_string(delta));
  const Tensor d = input - target;
  const Tensor ad = abs(d);
  return reduce(where(ad < delta, square(d) * 0.5, (ad - 0.5 * delta) * delta), options.reduction);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& options) {
  check_pair("binary_cross_entropy", input, target);
  if (input.numel() > 0) {
    const double lo = kernels::amin(input.array(), {}, false).item();
    const double hi = kernels::amax(input.array(), {}, false).item();
    if (!(lo >= 0.0 && hi <= 1.0))
      throw ValueError("binary_cross_entropy: input values must be probabilities in [0, 1], got values in [" +
                       std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  // -(t log x + (1 - t) log(1 - x))
  const Tensor loss = -(target * clamped_log(input) + (1.0 - target) * clamped_log(1.0 - input));
  return reduce(weighted(loss, options.weight), options.reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& options) {
  check_pair("binary_cross_entropy_with_logits", input, target);
  // -(p t log s(x) + (1 - t) log(1 - s(x))) = (1 - t) x + (1 + (p - 1) t) softplus(-x), with p = pos_weight;
  // softplus is linear beyond its threshold, so no exp overflows.
  const Tensor sp = softplus(-input);
  Tensor loss;
  if (options.pos_weight.defined()) {
    const Tensor log_weight = (options.pos_weight.detach() - 1.0) * target + 1.0;
    loss = (1.0 - target) * input + log_weight * sp;
  } else {
    loss = (1.0 - target) * input + sp;
  }
  return reduce(weighted(loss, options.weight), options.reduction);
}

// ---- class-index losses ---------------------------------------------------------------------------------

namespace {

// The layout shared by nll_loss and cross_entropy: input [N, C, d...] (a 1-d [C] input is
// treated as [1, C]) and int64 targets [N, d...].
struct ClassLayout {
  Tensor input;    // at least 2-d, classes along dim 1
  Array target;    // int64, contiguous, input's shape without dim 1
  bool unbatched;  // the caller passed a 1-d input and a 0-d target
  int64_t classes;
};

ClassLayout class_layout(const char* op, const Tensor& input, const Tensor& target) {
  check_defined(op, input, target);
  check_floating(op, "input", input);
  if (input.dim() == 0) throw ShapeError(std::string(op) + ": input must have a class dim, got a 0-d tensor");
  ClassLayout l{input, target.array(), input.dim() == 1, input.dim() == 1 ? input.size(0) : input.size(1)};
  Shape expected = input.shape();
  expected.erase(expected.begin() + (l.unbatched ? 0 : 1));
  if (target.shape() != expected)
    throw ShapeError(std::string(op) + ": target of shape " + to_string(target.shape()) +
                     " does not match input of shape " + to_string(input.shape()) + " (expected target shape " +
                     to_string(expected) + ")");
  if (l.unbatched) {
    l.input = unsqueeze(input, 0);
    l.target = l.target.reshape({1});
  }
  l.target = l.target.contiguous();
  return l;
}

// Per-sample -w[t] * input[t] (0 where ignored), and what the mean divides by.
struct Picked {
  Tensor loss;        // the target's shape (batched layout)
  Array sample_mask;  // input dtype, 1 where not ignored; undefined when nothing is ignored
  double total_weight = 0;
};

Picked pick(const char* op, const ClassLayout& l, const Tensor& weight, int64_t ignore_index) {
  const int64_t* t = l.target.data<int64_t>();
  const int64_t n = l.target.numel();
  std::vector<double> w;
  if (weight.defined()) {
    if (weight.dim() != 1 || weight.size(0) != l.classes)
      throw ShapeError(std::string(op) + ": weight must have shape [" + std::to_string(l.classes) + "], got " +
                       to_string(weight.shape()));
    check_floating(op, "weight", weight);
    w = weight.to_vector<double>();
  }
  int64_t ignored = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (t[i] == ignore_index)
      ++ignored;
    else if (t[i] < 0 || t[i] >= l.classes)
      throw IndexError(std::string(op) + ": target " + std::to_string(t[i]) + " is out of range for " +
                       std::to_string(l.classes) + " classes");
  }

  Picked p;
  Array index = l.target;
  Array sample_weight;  // undefined: every sample weighs 1
  if (ignored > 0 || weight.defined()) {
    if (ignored > 0) index = l.target.clone();
    sample_weight = Array(l.target.shape(), l.input.dtype());
    if (ignored > 0) p.sample_mask = Array(l.target.shape(), l.input.dtype());
    int64_t* safe = index.data<int64_t>();
    dispatch_floating(op, l.input.dtype(), [&]<typename T>() {
      T* sw = sample_weight.data<T>();
      T* mask = ignored > 0 ? p.sample_mask.data<T>() : nullptr;
      for (int64_t i = 0; i < n; ++i) {
        const bool skip = t[i] == ignore_index;
        if (skip) safe[i] = 0;
        const double wi = skip ? 0.0 : (w.empty() ? 1.0 : w[static_cast<size_t>(t[i])]);
        sw[i] = static_cast<T>(wi);
        if (mask) mask[i] = skip ? T(0) : T(1);
        p.total_weight += wi;
      }
    });
  } else {
    p.total_weight = static_cast<double>(n);
  }
  const Tensor picked = squeeze(gather(l.input, 1, Tensor(index.unsqueeze(1))), 1);
  p.loss = sample_weight.defined() ? -(picked * Tensor(sample_weight)) : -picked;
  return p;
}

Tensor reduce_class_loss(const Tensor& per_sample, const ClassLayout& l, double total_weight, Reduction r) {
  switch (r) {
    case Reduction::None: return l.unbatched ? reshape(per_sample, {}) : per_sample;
    case Reduction::Sum: return sum(per_sample);
    case Reduction::Mean: break;
  }
  return sum(per_sample) / total_weight;
}

void check_smoothing(const char* op, double label_smoothing) {
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw ValueError(std::string(op) + ": label_smoothing must be in [0, 1], got " + std::to_string(label_smoothing));
}

// Class weights shaped to broadcast along dim 1 of an input of `dims` dims, in `dtype`.
Tensor class_weight_view(const Tensor& weight, int64_t classes, int64_t dims, DType dtype) {
  Shape shape(static_cast<size_t>(dims), 1);
  shape[1] = classes;
  return reshape(weight.detach(), shape).to(dtype);
}

}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options) {
  check_defined("nll_loss", input, target);
  if (target.dtype() != kInt64)
    throw DTypeError("nll_loss: target must be int64 class indices, got " + dtype_str(target));
  const ClassLayout l = class_layout("nll_loss", input, target);
  const Picked p = pick("nll_loss", l, options.weight, options.ignore_index);
  return reduce_class_loss(p.loss, l, p.total_weight, options.reduction);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& options) {
  const char* op = "cross_entropy";
  check_defined(op, input, target);
  check_floating(op, "input", input);
  check_smoothing(op, options.label_smoothing);
  const double eps = options.label_smoothing;
  if (input.dim() == 0) throw ShapeError("cross_entropy: input must have a class dim, got a 0-d tensor");
  const int64_t class_dim = input.dim() == 1 ? 0 : 1;
  const int64_t classes = input.size(class_dim);

  if (target.is_floating_point()) {
    // Class probabilities: -sum_c w_c t_c log p_c, with t smoothed towards uniform; the mean is
    // over the samples (PyTorch does not divide by the weights here).
    if (target.shape() != input.shape())
      throw ShapeError("cross_entropy: probability targets must have the input's shape " + to_string(input.shape()) +
                       ", got " + to_string(target.shape()));
    const Tensor logp = log_softmax(input, class_dim);
    Tensor t = eps > 0 ? target * (1.0 - eps) + eps / static_cast<double>(classes) : target;
    if (options.weight.defined()) {
      if (options.weight.dim() != 1 || options.weight.size(0) != classes)
        throw ShapeError("cross_entropy: weight must have shape [" + std::to_string(classes) + "], got " +
                         to_string(options.weight.shape()));
      const Tensor w = input.dim() == 1 ? options.weight.detach().to(input.dtype())
                                        : class_weight_view(options.weight, classes, input.dim(), input.dtype());
      t = t * w;
    }
    const Tensor per_sample = -sum(logp * t, {class_dim});
    switch (options.reduction) {
      case Reduction::None: return per_sample;
      case Reduction::Sum: return sum(per_sample);
      case Reduction::Mean: break;
    }
    return sum(per_sample) / static_cast<double>(input.numel() / std::max<int64_t>(classes, 1));
  }

  if (target.dtype() != kInt64)
    throw DTypeError("cross_entropy: target must be int64 class indices or floating class probabilities, got " +
                     dtype_str(target));
  const ClassLayout l = class_layout(op, input, target);
  const Tensor logp = log_softmax(l.input, 1);
  const ClassLayout lp{logp, l.target, l.unbatched, l.classes};
  Picked p = pick(op, lp, options.weight, options.ignore_index);
  Tensor per_sample = p.loss;
  if (eps > 0) {
    // PyTorch's smoothing: (1 - eps) * nll + eps / C * (-sum_c w_c log p_c), ignored samples 0.
    Tensor smooth = options.weight.defined()
                        ? -sum(logp * class_weight_view(options.weight, l.classes, logp.dim(), logp.dtype()), {1})
                        : -sum(logp, {1});
    if (p.sample_mask.defined()) smooth = smooth * Tensor(p.sample_mask);
    per_sample = per_sample * (1.0 - eps) + smooth * (eps / static_cast<double>(l.classes));
  }
  return reduce_class_loss(per_sample, l, p.total_weight, options.reduction);
}

}  // namespace xgrad::nn::functional
