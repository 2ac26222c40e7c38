// BatchNorm1d / BatchNorm2d, LayerNorm and GroupNorm over the normalisation ops of
// autograd/ops/norm.hpp, with PyTorch's parameters, buffers, defaults and printing.
#include "xgrad/nn/normalization.hpp"

#include <string>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/ops/norm.hpp"
#include "xgrad/nn/functional_conv.hpp"
#include "xgrad/nn/init.hpp"

namespace xgrad::nn {
namespace {

std::string tuple_repr(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

void check_eps(const char* layer, double eps) {
  if (!(eps >= 0.0)) throw ValueError(std::string(layer) + ": eps must be non-negative, got " + std::to_string(eps));
}

}  // namespace

// ---- BatchNorm -------------------------------------------------------------------------------------------

namespace detail {

BatchNormBase::BatchNormBase(Options options) : options_(options) {
  const char* layer = "BatchNorm";
  if (options.num_features <= 0)
    throw ValueError(std::string(layer) + ": num_features must be positive, got " +
                     std::to_string(options.num_features));
  check_eps(layer, options.eps);
  if (options.momentum && !(*options.momentum >= 0.0 && *options.momentum <= 1.0))
    throw ValueError(std::string(layer) + ": momentum must be in [0, 1], got " + std::to_string(*options.momentum));
  const int64_t c = options.num_features;
  if (options.affine) {
    weight = register_parameter("weight", ones({c}));
    bias = register_parameter("bias", zeros({c}));
  }
  if (options.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({c}));
    running_var = register_buffer("running_var", ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", scalar_tensor(0, {.dtype = kInt64}));
  }
}

void BatchNormBase::reset_running_stats() {
  if (!running_mean.defined()) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1.0);
  num_batches_tracked.zero_();
}

void BatchNormBase::reset_parameters() {
  reset_running_stats();
  if (!weight.defined()) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor BatchNormBase::forward(const Tensor& x) {
  if (options_.num_features == 0) throw ValueError(type_name() + ": forward of an empty (default-constructed) layer");
  check_input_dim(x);
  if (x.size(1) != options_.num_features)
    throw ShapeError(type_name() + ": input of shape " + xgrad::to_string(x.shape()) + " has " +
                     std::to_string(x.size(1)) +
                     " channels, expected num_features=" + std::to_string(options_.num_features));
  // As PyTorch: a training step counts itself, and without momentum averages cumulatively.
  const bool count = is_training() && options_.track_running_stats;
  double momentum = options_.momentum.value_or(0.0);
  if (count && !options_.momentum) momentum = 1.0 / (static_cast<double>(num_batches_tracked.item<int64_t>()) + 1.0);
  const bool use_batch_stats = is_training() || !running_mean.defined();
  const bool pass_running = !is_training() || options_.track_running_stats;
  Tensor y = batch_norm(x, pass_running ? running_mean : Tensor{}, pass_running ? running_var : Tensor{}, weight, bias,
                        use_batch_stats, momentum, options_.eps);
  if (count) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1.0);
  }
  return y;
}

std::string BatchNormBase::extra_repr() const {
  const Options& o = options_;
  return std::to_string(o.num_features) + ", eps=" + python_float(o.eps) +
         ", momentum=" + (o.momentum ? python_float(*o.momentum) : std::string("None")) +
         ", affine=" + bool_repr(o.affine) + ", track_running_stats=" + bool_repr(o.track_running_stats);
}

}  // namespace detail

void BatchNorm1d::check_input_dim(const Tensor& x) const {
  if (!x.defined() || (x.dim() != 2 && x.dim() != 3))
    throw ShapeError("BatchNorm1d: expected a 2-d [N, C] or 3-d [N, C, L] input, got shape " +
                     (x.defined() ? xgrad::to_string(x.shape()) : std::string("undefined")));
}

void BatchNorm2d::check_input_dim(const Tensor& x) const {
  if (!x.defined() || x.dim() != 4)
    throw ShapeError("BatchNorm2d: expected a 4-d [N, C, H, W] input, got shape " +
                     (x.defined() ? xgrad::to_string(x.shape()) : std::string("undefined")));
}

// ---- LayerNorm -------------------------------------------------------------------------------------------

LayerNorm::LayerNorm(Options options) : options_(std::move(options)) {
  const Shape& ns = options_.normalized_shape;
  if (ns.empty()) throw ValueError("LayerNorm: normalized_shape must have at least one dim");
  for (int64_t d : ns)
    if (d <= 0) throw ValueError("LayerNorm: normalized_shape " + xgrad::to_string(ns) + " must be positive");
  check_eps("LayerNorm", options_.eps);
  if (options_.elementwise_affine) {
    weight = register_parameter("weight", ones(ns));
    if (options_.bias) bias = register_parameter("bias", zeros(ns));
  }
}

void LayerNorm::reset_parameters() {
  if (weight.defined()) init::ones_(weight);
  if (bias.defined()) init::zeros_(bias);
}

Tensor LayerNorm::forward(const Tensor& x) {
  if (options_.normalized_shape.empty()) throw ValueError("LayerNorm: forward of an empty (default-constructed) layer");
  return layer_norm(x, options_.normalized_shape, weight, bias, options_.eps);
}

std::string LayerNorm::extra_repr() const {
  return tuple_repr(options_.normalized_shape) + ", eps=" + detail::python_float(options_.eps) +
         ", elementwise_affine=" + detail::bool_repr(options_.elementwise_affine);
}

// ---- GroupNorm -------------------------------------------------------------------------------------------

GroupNorm::GroupNorm(Options options) : options_(options) {
  if (options.num_groups <= 0 || options.num_channels <= 0)
    throw ValueError("GroupNorm: num_groups and num_channels must be positive, got " +
                     std::to_string(options.num_groups) + " and " + std::to_string(options.num_channels));
  if (options.num_channels % options.num_groups != 0)
    throw ValueError("GroupNorm: num_channels=" + std::to_string(options.num_channels) +
                     " must be divisible by num_groups=" + std::to_string(options.num_groups));
  check_eps("GroupNorm", options.eps);
  if (options.affine) {
    weight = register_parameter("weight", ones({options.num_channels}));
    bias = register_parameter("bias", zeros({options.num_channels}));
  }
}

void GroupNorm::reset_parameters() {
  if (!weight.defined()) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor GroupNorm::forward(const Tensor& x) {
  if (options_.num_groups == 0) throw ValueError("GroupNorm: forward of an empty (default-constructed) layer");
  if (x.defined() && x.dim() >= 2 && x.size(1) != options_.num_channels)
    throw ShapeError("GroupNorm: input of shape " + xgrad::to_string(x.shape()) + " has " + std::to_string(x.size(1)) +
                     " channels, expected num_channels=" + std::to_string(options_.num_channels));
  return group_norm(x, options_.num_groups, weight, bias, options_.eps);
}

std::string GroupNorm::extra_repr() const {
  return std::to_string(options_.num_groups) + ", " + std::to_string(options_.num_channels) +
         ", eps=" + detail::python_float(options_.eps) + ", affine=" + detail::bool_repr(options_.affine);
}

}  // namespace xgrad::nn
