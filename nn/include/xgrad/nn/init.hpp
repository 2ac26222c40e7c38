#pragma once
// Initialisation in place, with PyTorch's rules for gains and fans (torch.nn.init). Each writes
// the tensor's values without recording (NoGradGuard) and returns the same handle.
#include <cstdint>
#include <optional>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad::nn::init {

enum class Nonlinearity { Linear, Conv, Sigmoid, Tanh, ReLU, LeakyReLU, SELU };
enum class FanMode { FanIn, FanOut };

// The recommended gain: 1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu,
// sqrt(2 / (1 + slope^2)) for leaky_relu (slope = param, 0.01 by default), 3/4 for selu.
double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = {});

// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field, where the receptive field
// is the product of the dims after the first two. ValueError for fewer than 2 dims.
struct Fans {
  int64_t fan_in;
  int64_t fan_out;
};
Fans calculate_fan_in_and_fan_out(const Tensor& t);

Tensor uniform_(const Tensor& t, double a = 0.0, double b = 1.0, Generator& gen = default_generator());
Tensor normal_(const Tensor& t, double mean = 0.0, double std = 1.0, Generator& gen = default_generator());
Tensor constant_(const Tensor& t, double value);
Tensor zeros_(const Tensor& t);
Tensor ones_(const Tensor& t);

// Glorot & Bengio (2010): std = gain * sqrt(2 / (fan_in + fan_out)); uniform bound sqrt(3) * std.
Tensor xavier_uniform_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
Tensor xavier_normal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());

// He et al. (2015): std = gain(nonlinearity, a) / sqrt(fan); uniform bound sqrt(3) * std.
Tensor kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator& gen = default_generator());
Tensor kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator& gen = default_generator());

}  // namespace xgrad::nn::init
