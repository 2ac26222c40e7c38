// nn::init: gains, fans, and the statistics (bounds, mean, std) of every initialiser.
#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "xgrad/nn/nn.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::nn {
namespace {

struct Stats {
  double min, max, mean, std;
};

Stats stats(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  Stats s{v[0], v[0], 0, 0};
  for (double x : v) {
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
    s.mean += x;
  }
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / static_cast<double>(v.size()));
  return s;
}

TEST(Init, GainsFollowPyTorch) {
  using init::Nonlinearity;
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::Linear), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::Sigmoid), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::LeakyReLU), std::sqrt(2.0 / (1 + 0.01 * 0.01)));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::LeakyReLU, std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::SELU), 0.75);
}

TEST(Init, FansCountTheReceptiveField) {
  const auto f = init::calculate_fan_in_and_fan_out(zeros({3, 4}));
  EXPECT_EQ(f.fan_in, 4);
  EXPECT_EQ(f.fan_out, 3);
  const auto conv = init::calculate_fan_in_and_fan_out(zeros({2, 3, 5, 5}));  // a conv kernel
  EXPECT_EQ(conv.fan_in, 75);
  EXPECT_EQ(conv.fan_out, 50);
  EXPECT_THROW(init::calculate_fan_in_and_fan_out(zeros({7})), ValueError);
  EXPECT_THROW(init::xavier_uniform_(zeros({7})), ValueError);
}

TEST(Init, UniformAndNormal) {
  manual_seed(0);
  const Stats u = stats(init::uniform_(empty({200, 300}), -2.0, 4.0));
  EXPECT_GE(u.min, -2.0);
  EXPECT_LT(u.max, 4.0);
  EXPECT_NEAR(u.mean, 1.0, 0.02);
  EXPECT_NEAR(u.std, 6.0 / std::sqrt(12.0), 0.02);
  const Stats n = stats(init::normal_(empty({200, 300}, {.dtype = kFloat64}), 3.0, 0.5));
  EXPECT_NEAR(n.mean, 3.0, 0.005);
  EXPECT_NEAR(n.std, 0.5, 0.005);
  EXPECT_THROW(init::uniform_(empty({2}), 1.0, 0.0), ValueError);
  EXPECT_THROW(init::normal_(empty({2}), 0.0, -1.0), ValueError);
}

TEST(Init, ConstantZerosOnes) {
  EXPECT_EQ(init::constant_(empty({3}), 2.5).to_vector<float>(), std::vector<float>(3, 2.5f));
  EXPECT_EQ(init::zeros_(full({3}, 7.0)).to_vector<float>(), std::vector<float>(3, 0.f));
  EXPECT_EQ(init::ones_(empty({3}, {.dtype = kFloat64})).to_vector<double>(), std::vector<double>(3, 1.0));
  EXPECT_THROW(init::ones_(empty({3}, {.dtype = kInt64})), DTypeError);
}

TEST(Init, XavierUsesBothFans) {
  manual_seed(1);
  // fan_in 300, fan_out 200: std = sqrt(2 / 500) = 0.0632; uniform bound sqrt(3) std = sqrt(6 / 500) = 0.1095.
  const double std = std::sqrt(2.0 / 500.0), bound = std::sqrt(6.0 / 500.0);
  const Stats u = stats(init::xavier_uniform_(empty({200, 300})));
  EXPECT_GE(u.min, -bound);
  EXPECT_LE(u.max, bound);
  EXPECT_GT(u.max, 0.99 * bound);
  EXPECT_NEAR(u.std, std, 0.02 * std);
  const Stats n = stats(init::xavier_normal_(empty({200, 300}), 2.0));
  EXPECT_NEAR(n.std, 2.0 * std, 0.02 * 2.0 * std);
  EXPECT_NEAR(n.mean, 0.0, 0.003);
}

TEST(Init, KaimingUsesTheChosenFanAndGain) {
  manual_seed(2);
  // Default: leaky_relu with a = 0 -> gain sqrt(2); fan_in 300: std = sqrt(2 / 300).
  const double std_in = std::sqrt(2.0 / 300.0);
  const Stats u = stats(init::kaiming_uniform_(empty({200, 300})));
  EXPECT_LE(u.max, std::sqrt(3.0) * std_in);
  EXPECT_GE(u.min, -std::sqrt(3.0) * std_in);
  EXPECT_NEAR(u.std, std_in, 0.02 * std_in);
  const Stats n = stats(init::kaiming_normal_(empty({200, 300}), 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU));
  const double std_out = std::sqrt(2.0 / 200.0);
  EXPECT_NEAR(n.std, std_out, 0.02 * std_out);
  EXPECT_THROW(init::kaiming_uniform_(empty({0, 3}), 0.0, init::FanMode::FanOut), ValueError);
}

TEST(Init, WritesInPlaceWithoutRecording) {
  const Tensor w = zeros({4, 5}, {.requires_grad = true});
  const auto* storage = w.array().storage().get();
  const uint64_t version = w.version();
  init::xavier_uniform_(w);
  EXPECT_EQ(w.array().storage().get(), storage);
  EXPECT_GT(w.version(), version);
  EXPECT_TRUE(w.is_leaf());
  EXPECT_TRUE(w.requires_grad());
}

TEST(Init, AGeneratorMakesItReproducible) {
  Generator a(7), b(7);
  EXPECT_EQ(
      init::kaiming_normal_(empty({3, 3}), 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU, a).to_vector<float>(),
      init::kaiming_normal_(empty({3, 3}), 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU, b).to_vector<float>());
}

}  // namespace
}  // namespace xgrad::nn
