// Layers: forward values worked out by hand, Dropout's modes, and gradients (first and second
// order) through every layer in float64.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "layer_checks.hpp"
#include "xgrad/nn/nn.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::nn {
namespace {

using testing::check_layer_on;
using F = std::vector<float>;
using D = std::vector<double>;

void expect_near(const D& got, const D& want, double tol = 1e-6) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

Linear hand_linear(bool bias = true) {
  Linear lin({.in = 2, .out = 3, .bias = bias});
  NoGradGuard no_grad;
  lin.weight.copy_(tensor({{1.f, 2.f}, {3.f, 4.f}, {5.f, 6.f}}));
  if (bias) lin.bias.copy_(tensor({0.5f, -0.5f, 1.f}));
  return lin;
}

// ---- Linear -------------------------------------------------------------------------------------------

TEST(Linear, ComputesXTimesWeightTransposedPlusBias) {
  // x = [[1, 1], [2, -1]], W = [[1, 2], [3, 4], [5, 6]], b = [0.5, -0.5, 1]:
  // row 0: [1+2, 3+4, 5+6] + b = [3.5, 6.5, 12]; row 1: [2-2, 6-4, 10-6] + b = [0.5, 1.5, 5].
  Linear lin = hand_linear();
  const Tensor y = lin(tensor({{1.f, 1.f}, {2.f, -1.f}}));
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(y.to_vector<float>(), (F{3.5f, 6.5f, 12.f, 0.5f, 1.5f, 5.f}));
  EXPECT_EQ(hand_linear(false)(tensor({{1.f, 1.f}})).to_vector<float>(), (F{3.f, 7.f, 11.f}));
}

TEST(Linear, AcceptsAnyLeadingDims) {
  Linear lin = hand_linear();
  const Tensor one = lin(tensor({2.f, -1.f}));  // [in] -> [out]
  EXPECT_EQ(one.shape(), (Shape{3}));
  EXPECT_EQ(one.to_vector<float>(), (F{0.5f, 1.5f, 5.f}));
  EXPECT_EQ(lin(ones({4, 5, 2})).shape(), (Shape{4, 5, 3}));
}

TEST(Linear, LayoutAndPyTorchDefaultInitialisation) {
  manual_seed(0);
  Linear lin({.in = 400, .out = 300});
  EXPECT_EQ(lin.weight.shape(), (Shape{300, 400}));
  EXPECT_EQ(lin.bias.shape(), (Shape{300}));
  // kaiming_uniform_(a = sqrt(5)): gain sqrt(2 / 6), bound sqrt(3) * gain / sqrt(400) = 1 / sqrt(400) = 0.05.
  const std::vector<double> w = lin.weight.to_vector<double>();
  double sq = 0, lo = 1, hi = -1;
  for (double v : w) {
    sq += v * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_GE(lo, -0.05);
  EXPECT_LE(hi, 0.05);
  EXPECT_LT(lo, -0.049);  // the whole range is used
  EXPECT_GT(hi, 0.049);
  EXPECT_NEAR(std::sqrt(sq / static_cast<double>(w.size())), 0.05 / std::sqrt(3.0), 0.001);  // uniform's std
  for (double v : lin.bias.to_vector<double>()) EXPECT_LE(std::abs(v), 0.05);
  EXPECT_EQ(lin.extra_repr(), "in_features=400, out_features=300, bias=true");
}

TEST(Linear, ErrorsNameTheLayerAndShapes) {
  Linear lin(2, 3);
  try {
    lin(ones({4, 5}));
    ADD_FAILURE() << "no exception";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("Linear: input of shape [4, 5]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Linear(0, 3), ValueError);
  Linear empty;
  EXPECT_THROW(empty(ones({1, 2})), ValueError);
  EXPECT_THROW(functional::linear(ones({1, 2}), ones({2})), ShapeError);
}

// ---- shape layers ---------------------------------------------------------------------------------------

TEST(Flatten, JoinsTheDimsAfterTheBatch) {
  Flatten flat;
  EXPECT_EQ(flat(ones({2, 3, 4})).shape(), (Shape{2, 12}));
  EXPECT_EQ(Flatten(0)(ones({2, 3, 4})).shape(), (Shape{24}));
  EXPECT_EQ(Flatten(1, 2)(ones({2, 3, 4, 5})).shape(), (Shape{2, 12, 5}));
  Identity id;
  const Tensor x = ones({3});
  EXPECT_TRUE(id(x).is_same(x));
}

// ---- Dropout ----------------------------------------------------------------------------------------------

TEST(Dropout, IsTheIdentityInEvalMode) {
  Dropout drop(0.5);
  drop.eval();
  const Tensor x = ones({100});
  EXPECT_TRUE(drop(x).is_same(x));
}

TEST(Dropout, ZeroesAboutPAndScalesTheRestInTraining) {
  manual_seed(11);
  Dropout drop(0.3);
  const int64_t n = 100000;
  const std::vector<float> y = drop(ones({n})).to_vector<float>();
  int64_t zeros_seen = 0;
  double total = 0;
  for (float v : y) {
    if (v == 0.f)
      ++zeros_seen;
    else
      EXPECT_FLOAT_EQ(v, 1.f / 0.7f);
    total += v;
  }
  // Binomial(1e5, 0.3): std of the fraction is 0.00145; 0.01 is ~7 sigma.
  EXPECT_NEAR(static_cast<double>(zeros_seen) / n, 0.3, 0.01);
  EXPECT_NEAR(total / n, 1.0, 0.02);  // inverted dropout keeps the mean
}

TEST(Dropout, IsReproducibleAndItsGradientIsTheMask) {
  manual_seed(5);
  const Tensor x = ones({1000}, {.requires_grad = true});
  const Tensor y = functional::dropout(x, 0.5, true);
  manual_seed(5);
  EXPECT_EQ(functional::dropout(ones({1000}), 0.5, true).to_vector<float>(), y.to_vector<float>());
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), y.to_vector<float>());  // d(x * mask) / dx = mask = y here
}

TEST(Dropout, EdgeProbabilitiesAndErrors) {
  const Tensor x = full({10}, 3.0);
  EXPECT_EQ(functional::dropout(x, 0.0, true).to_vector<float>(), F(10, 3.f));
  EXPECT_EQ(functional::dropout(x, 1.0, true).to_vector<float>(), F(10, 0.f));
  EXPECT_THROW(Dropout(1.5), ValueError);
  EXPECT_THROW(functional::dropout(x, -0.1, true), ValueError);
  EXPECT_THROW(functional::dropout(ones({2}, {.dtype = kInt64}), 0.5, true), DTypeError);
}

// ---- activations ------------------------------------------------------------------------------------------

TEST(Activations, ValuesAtHandPickedPoints) {
  const Tensor x = tensor({-1.0, 0.0, 2.0});
  EXPECT_EQ(ReLU()(x).to_vector<double>(), (D{0, 0, 2}));
  expect_near(LeakyReLU(0.1)(x).to_vector<double>(), {-0.1, 0, 2}, 1e-15);
  expect_near(ELU(2.0)(x).to_vector<double>(), {2.0 * (std::exp(-1.0) - 1.0), 0, 2}, 1e-15);
  expect_near(Sigmoid()(x).to_vector<double>(), {1 / (1 + std::exp(1.0)), 0.5, 1 / (1 + std::exp(-2.0))}, 1e-15);
  expect_near(Tanh()(x).to_vector<double>(), {std::tanh(-1.0), 0, std::tanh(2.0)}, 1e-15);
  expect_near(SiLU()(x).to_vector<double>(), {-1 / (1 + std::exp(1.0)), 0, 2 / (1 + std::exp(-2.0))}, 1e-15);
  // GELU(1) = Phi(1) = 0.8413447460685429; the tanh form gives 0.8411919906082768.
  expect_near(GELU()(tensor({1.0})).to_vector<double>(), {0.84134474606854293}, 1e-12);
  expect_near(GELU(GeluApproximate::Tanh)(tensor({1.0})).to_vector<double>(), {0.84119199060827676}, 1e-12);
  // softmax([1, 2, 3]) = e^x / (e + e^2 + e^3)
  const D sm = {0.090030573170380435, 0.24472847105479759, 0.66524095577482167};
  expect_near(Softmax()(tensor({{1.0, 2.0, 3.0}})).to_vector<double>(), sm, 1e-15);
  expect_near(LogSoftmax(1)(tensor({{1.0, 2.0, 3.0}})).to_vector<double>(),
              {std::log(sm[0]), std::log(sm[1]), std::log(sm[2])}, 1e-14);
  expect_near(Softmax(0)(tensor({{1.0}, {3.0}})).to_vector<double>(),
              {1 / (1 + std::exp(2.0)), 1 / (1 + std::exp(-2.0))}, 1e-15);
  EXPECT_EQ(GELU(GeluApproximate::Tanh).extra_repr(), "approximate='tanh'");
  EXPECT_EQ(Softmax(1).extra_repr(), "dim=1");
  EXPECT_EQ(ELU().extra_repr(), "alpha=1");
}

// ---- gradients through every layer ----------------------------------------------------------------------

Tensor inputs_away_from_zero(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  const Tensor u = rand(shape, gen, {.dtype = kFloat64});
  const Tensor sign = where(rand(shape, gen, {.dtype = kFloat64}) < 0.5, full(shape, -1.0, {.dtype = kFloat64}),
                            full(shape, 1.0, {.dtype = kFloat64}));
  return ((u * 1.5 + 0.3) * sign).detach().contiguous().requires_grad_();
}

// check_layer_on with x away from zero (seed 42), where the activations' kinks cannot spoil the
// finite differences.
void check_layer(Module& m, const Shape& input_shape, bool second_order = true) {
  check_layer_on(m, inputs_away_from_zero(input_shape, 42), second_order);
}

TEST(LayerGradients, LinearWithAndWithoutBias) {
  Linear a(3, 4), b({.in = 3, .out = 2, .bias = false});
  check_layer(a, {5, 3});
  check_layer(b, {2, 3});
  Linear c(3, 2);
  check_layer(c, {3});  // a single sample
}

TEST(LayerGradients, Activations) {
  ReLU relu_m;
  LeakyReLU leaky(0.2);
  ELU elu_m(1.5);
  GELU gelu_m;
  GELU gelu_tanh(GeluApproximate::Tanh);
  SiLU silu_m;
  Sigmoid sig;
  Tanh tanh_m;
  Softmax sm(1);
  LogSoftmax lsm(1);
  check_layer(relu_m, {3, 4});
  check_layer(leaky, {3, 4});
  check_layer(elu_m, {3, 4});
  check_layer(gelu_m, {3, 4});
  check_layer(gelu_tanh, {3, 4});
  check_layer(silu_m, {3, 4});
  check_layer(sig, {3, 4});
  check_layer(tanh_m, {3, 4});
  check_layer(sm, {3, 4});
  check_layer(lsm, {3, 4});
}

TEST(LayerGradients, ShapeLayersAndDropout) {
  Flatten flat;
  Identity id;
  check_layer(flat, {2, 3, 2});
  check_layer(id, {4});
  // Dropout draws a new mask per call: reseed inside so that every evaluation sees one mask.
  struct SeededDropout : Module {
    Tensor forward(const Tensor& x) override {
      manual_seed(9);
      return drop(x);
    }
    Dropout drop{0.4};
  } seeded;
  check_layer(seeded, {3, 5});
}

TEST(LayerGradients, SequentialMlpEndToEnd) {
  manual_seed(4);
  Sequential mlp({Linear(4, 6), Tanh(), Linear(6, 5), GELU(), Linear(5, 3), LogSoftmax(1)});
  check_layer(mlp, {2, 4});
}

}  // namespace
}  // namespace xgrad::nn
