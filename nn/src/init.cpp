#include "xgrad/nn/init.hpp"

#include <cmath>
#include <string>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::nn::init {

namespace {

void check(const char* op, const Tensor& t) {
  if (!t.defined()) throw ValueError(std::string(op) + ": undefined tensor");
  if (!t.is_floating_point())
    throw DTypeError(std::string(op) + ": expected a floating tensor, got " + std::string(dtype_name(t.dtype())));
}

// Writes `values` into t without recording; bumps the version like any in-place write.
Tensor assign(const Tensor& t, const Array& values) {
  NoGradGuard no_grad;
  kernels::copy_(t.array(), values);
  t.array().bump_version();
  return t;
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: {
      const double slope = param.value_or(0.01);
      return std::sqrt(2.0 / (1.0 + slope * slope));
    }
    case Nonlinearity::SELU: return 3.0 / 4.0;
  }
  return 1.0;
}

Fans calculate_fan_in_and_fan_out(const Tensor& t) {
  if (!t.defined() || t.dim() < 2)
    throw ValueError("calculate_fan_in_and_fan_out: fans need a tensor of at least 2 dims, got shape " +
                     (t.defined() ? to_string(t.shape()) : std::string("undefined")));
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor uniform_(const Tensor& t, double a, double b, Generator& gen) {
  check("uniform_", t);
  if (!(a <= b)) throw ValueError("uniform_: expected a <= b, got a=" + std::to_string(a) + ", b=" + std::to_string(b));
  return assign(t, kernels::uniform(t.shape(), a, b, t.dtype(), gen));
}

Tensor normal_(const Tensor& t, double mean, double std, Generator& gen) {
  check("normal_", t);
  if (!(std >= 0)) throw ValueError("normal_: std must be non-negative, got " + std::to_string(std));
  return assign(t, kernels::normal(t.shape(), mean, std, t.dtype(), gen));
}

Tensor constant_(const Tensor& t, double value) {
  check("constant_", t);
  NoGradGuard no_grad;
  kernels::fill_(t.array(), value);
  t.array().bump_version();
  return t;
}

Tensor zeros_(const Tensor& t) { return constant_(t, 0.0); }
Tensor ones_(const Tensor& t) { return constant_(t, 1.0); }

namespace {
double xavier_std(const Tensor& t, double gain) {
  const Fans f = calculate_fan_in_and_fan_out(t);
  return gain * std::sqrt(2.0 / static_cast<double>(f.fan_in + f.fan_out));
}

double kaiming_std(const char* op, const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity) {
  const Fans f = calculate_fan_in_and_fan_out(t);
  const int64_t fan = mode == FanMode::FanIn ? f.fan_in : f.fan_out;
  if (fan == 0)
    throw ValueError(std::string(op) + ": cannot initialise a tensor with a zero fan, shape " + to_string(t.shape()));
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}
}  // namespace

Tensor xavier_uniform_(const Tensor& t, double gain, Generator& gen) {
  check("xavier_uniform_", t);
  const double bound = std::sqrt(3.0) * xavier_std(t, gain);
  return assign(t, kernels::uniform(t.shape(), -bound, bound, t.dtype(), gen));
}

Tensor xavier_normal_(const Tensor& t, double gain, Generator& gen) {
  check("xavier_normal_", t);
  return assign(t, kernels::normal(t.shape(), 0.0, xavier_std(t, gain), t.dtype(), gen));
}

Tensor kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator& gen) {
  check("kaiming_uniform_", t);
  const double bound = std::sqrt(3.0) * kaiming_std("kaiming_uniform_", t, a, mode, nonlinearity);
  return assign(t, kernels::uniform(t.shape(), -bound, bound, t.dtype(), gen));
}

Tensor kaiming_normal_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator& gen) {
  check("kaiming_normal_", t);
  return assign(
      t, kernels::normal(t.shape(), 0.0, kaiming_std("kaiming_normal_", t, a, mode, nonlinearity), t.dtype(), gen));
}

}  // namespace xgrad::nn::init
