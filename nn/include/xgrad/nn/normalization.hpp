#pragma once
// Normalisation layers with PyTorch's names, options, parameters and buffers (so state dicts
// match): BatchNorm1d / BatchNorm2d (weight, bias; buffers running_mean, running_var,
// num_batches_tracked), LayerNorm and GroupNorm (weight, bias).
//   nn::BatchNorm2d(32)
//   nn::BatchNorm1d({.num_features = 10, .momentum = std::nullopt})  // cumulative average
//   nn::LayerNorm({.normalized_shape = {10}, .eps = 1e-6})
//   nn::GroupNorm(4, 32)
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

struct BatchNormOptions {
  int64_t num_features = 0;
  double eps = 1e-5;
  // running = (1 - momentum) running + momentum batch_stat; nullopt: the cumulative average
  // (momentum 1 / num_batches_tracked).
  std::optional<double> momentum = 0.1;
  bool affine = true;               // learnable weight (ones) and bias (zeros)
  bool track_running_stats = true;  // else batch statistics in evaluation too, and no buffers
};

namespace detail {

// In training, normalises with the batch statistics and updates the running ones (counting
// num_batches_tracked); in evaluation, normalises with the running ones.
class BatchNormBase : public Module {
 public:
  using Options = BatchNormOptions;
  Tensor forward(const Tensor& x) override;
  // "32, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true"
  std::string extra_repr() const override;
  void reset_running_stats();  // mean 0, variance 1, count 0
  void reset_parameters();     // also weight 1, bias 0
  const Options& options() const { return options_; }

  Tensor weight;               // [C], undefined without affine
  Tensor bias;                 // [C]
  Tensor running_mean;         // [C], undefined without track_running_stats
  Tensor running_var;          // [C]
  Tensor num_batches_tracked;  // int64 scalar

 protected:
  BatchNormBase() = default;
  explicit BatchNormBase(Options options);
  explicit BatchNormBase(int64_t num_features) : BatchNormBase(Options{.num_features = num_features}) {}
  virtual void check_input_dim(const Tensor& x) const = 0;

 private:
  Options options_;
};

}  // namespace detail

// Over [N, C] or [N, C, L].
class BatchNorm1d : public detail::BatchNormBase {
 public:
  BatchNorm1d() = default;
  explicit BatchNorm1d(Options options) : BatchNormBase(options) {}
  explicit BatchNorm1d(int64_t num_features) : BatchNormBase(num_features) {}
  std::string type_name() const override { return "BatchNorm1d"; }

 protected:
  void check_input_dim(const Tensor& x) const override;
};

// Over [N, C, H, W].
class BatchNorm2d : public detail::BatchNormBase {
 public:
  BatchNorm2d() = default;
  explicit BatchNorm2d(Options options) : BatchNormBase(options) {}
  explicit BatchNorm2d(int64_t num_features) : BatchNormBase(num_features) {}
  std::string type_name() const override { return "BatchNorm2d"; }

 protected:
  void check_input_dim(const Tensor& x) const override;
};

// Normalises the trailing dims given by normalized_shape; weight (ones) and bias (zeros) have that shape.
class LayerNorm : public Module {
 public:
  struct Options {
    std::vector<int64_t> normalized_shape;
    double eps = 1e-5;
    bool elementwise_affine = true;
    bool bias = true;  // with elementwise_affine: also learn a bias
  };
  LayerNorm() = default;
  explicit LayerNorm(Options options);
  // (No constructor from a bare list of sizes: GCC 12 would find LayerNorm({.normalized_shape = {4},
  // .elementwise_affine = false}) ambiguous with it. Use .normalized_shape.)
  explicit LayerNorm(int64_t size) : LayerNorm(Options{.normalized_shape = {size}}) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LayerNorm"; }
  std::string extra_repr() const override;  // "(10,), eps=1e-05, elementwise_affine=true"
  void reset_parameters();
  const Options& options() const { return options_; }

  Tensor weight;  // normalized_shape, undefined without elementwise_affine
  Tensor bias;

 private:
  Options options_;
};

// Splits the C channels of [N, C, ...] into num_groups groups, each normalised; weight / bias [C].
class GroupNorm : public Module {
 public:
  struct Options {
    int64_t num_groups = 0;
    int64_t num_channels = 0;
    double eps = 1e-5;
    bool affine = true;
  };
  GroupNorm() = default;
  explicit GroupNorm(Options options);
  GroupNorm(int64_t num_groups, int64_t num_channels) : GroupNorm(Options{num_groups, num_channels}) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GroupNorm"; }
  std::string extra_repr() const override;  // "4, 32, eps=1e-05, affine=true"
  void reset_parameters();
  const Options& options() const { return options_; }

  Tensor weight;  // [C], undefined without affine
  Tensor bias;

 private:
  Options options_;
};

}  // namespace xgrad::nn
