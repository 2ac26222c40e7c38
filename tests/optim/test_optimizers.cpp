// Each optimizer against trajectories worked out by hand (PyTorch's documented update rules) for
// three steps on f(x) = 0.5 * sum(a * x^2), whose gradient is a * x. Every case starts at
// x0 = [1, -2] with a = [1, 3], in float64, so the numbers below hold to ~1e-15.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "xgrad/optim/optim.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::optim {
namespace {

using V = std::vector<double>;

const V kA = {1.0, 3.0};

Tensor start(const V& x0 = {1.0, -2.0}, DType dtype = kFloat64) {
  return Tensor(tensor(x0, {static_cast<int64_t>(x0.size())}).array().to(dtype), /*requires_grad=*/true);
}

// .grad = a * x, written directly so that these tests exercise the optimizers alone.
void set_quadratic_grad(const Tensor& x) {
  V g = x.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) g[i] *= kA[i];
  x.set_grad(Tensor(tensor(g, x.shape()).array().to(x.dtype())));
}

// Runs `steps` steps and checks x after each against `expected`.
void expect_trajectory(Optimizer& opt, const Tensor& x, const std::vector<V>& expected, double tol = 1e-13) {
  for (size_t t = 0; t < expected.size(); ++t) {
    set_quadratic_grad(x);
    opt.step();
    const V got = x.to_vector<double>();
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], expected[t][i], tol) << opt.name() << " step " << t + 1 << " element " << i;
  }
}

// ---- SGD ------------------------------------------------------------------------------------------------

TEST(SGD, PlainStepsAreXMinusLrTimesGradient) {
  // x1 = x0 - 0.1 * a x0 = [1 - 0.1, -2 + 0.6] = [0.9, -1.4]; each step multiplies x_i by (1 - 0.1 a_i).
  Tensor x = start();
  SGD opt({x}, {.lr = 0.1});
  expect_trajectory(opt, x, {{0.9, -1.4}, {0.81, -0.98}, {0.729, -0.686}});
}

TEST(SGD, MomentumWithDampeningAndWeightDecay) {
  // g = a x + 0.1 x; b1 = g (no dampening on the first step); b_t = 0.9 b + 0.5 g; x -= 0.1 b.
  // Step 1: g = [1.1, -6.2], b = g, x = [0.89, -1.38].
  // Step 2: g = [0.979, -4.278], b = [0.99 + 0.4895, -5.58 - 2.139] = [1.4795, -7.719],
  //         x = [0.89 - 0.14795, -1.38 + 0.7719] = [0.74205, -0.6081].
  Tensor x = start();
  SGD opt({x}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.5, .weight_decay = 0.1});
  expect_trajectory(opt, x, {{0.89, -1.38}, {0.74205, -0.6081}, {0.56808225, 0.1808655}});
}

TEST(SGD, NesterovLooksAhead) {
  // b = 0.9 b + g (b1 = g); step direction g + 0.9 b.
  // Step 1: g = [1, -6], b = g, d = 1.9 g = [1.9, -11.4], x = [0.81, -0.86].
  Tensor x = start();
  SGD opt({x}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  expect_trajectory(opt, x, {{0.81, -0.86}, {0.5751, 0.1162}, {0.327321, 0.696346}});
}

TEST(SGD, MaximizeClimbs) {
  // x += 0.1 a x: each step multiplies x_i by (1 + 0.1 a_i).
  Tensor x = start();
  SGD opt({x}, {.lr = 0.1, .maximize = true});
  expect_trajectory(opt, x, {{1.1, -2.6}, {1.21, -3.38}, {1.331, -4.394}});
}

TEST(SGD, NesterovNeedsMomentumAndNoDampening) {
  Tensor x = start();
  EXPECT_THROW(SGD({x}, {.lr = 0.1, .nesterov = true}), ValueError);
  EXPECT_THROW(SGD({x}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}), ValueError);
  EXPECT_THROW(SGD({x}, {.lr = -1.0}), ValueError);
  EXPECT_THROW(SGD({x}, {.lr = 0.1, .momentum = -0.5}), ValueError);
}

// ---- Adam / AdamW ----------------------------------------------------------------------------------------

TEST(Adam, FirstStepMovesEachCoordinateByLr) {
  // Step 1: m = 0.1 g, v = 0.001 g^2, so m / (1 - 0.9) = g and sqrt(v / (1 - 0.999)) = |g|: the step is
  // lr * g / (|g| + eps) = 0.1 * sign(g) up to eps: x1 = [1 - 0.1 / (1 + 1e-8), -2 + 0.1 / (1 + 1e-8 / 6)].
  // Later steps follow m = 0.9 m + 0.1 g, v = 0.999 v + 0.001 g^2, x -= 0.1 / (1 - 0.9^t) * m /
  // (sqrt(v) / sqrt(1 - 0.999^t) + 1e-8).
  Tensor x = start();
  Adam opt({x}, {.lr = 0.1});
  expect_trajectory(opt, x,
                    {{0.90000000099999999, -1.9000000001666666},
                     {0.80041222971233816, -1.800166485947237},
                     {0.70158627450441502, -1.7006233917912488}});
}

TEST(Adam, L2WeightDecayAndAmsgrad) {
  // g = a x + 0.1 x (L2 added to the gradient), with v replaced by max(v_max, v).
  Tensor x = start();
  Adam opt({x}, {.lr = 0.1, .weight_decay = 0.1, .amsgrad = true});
  expect_trajectory(opt, x,
                    {{0.90000000090909094, -1.9000000001612904},
                     {0.80041222952678448, -1.8001664859363686},
                     {0.70158627422107234, -1.7006233917747835}});
}

TEST(Adam, AmsgradKeepsTheLargestSecondMoment) {
  // One coordinate, x0 = 0, gradients 1, then 0.01 twice (set by hand), lr = 0.1.
  // t=1: m = 0.1, v = 0.001, x = -0.1 / (1 + 1e-8) (the bias corrections give m^ = 1, v^ = 1).
  // t=2: m = 0.09 + 0.001 = 0.091, v = 0.000999 + 1e-7 = 0.0009991, vmax = 0.001 (AMSGrad keeps it).
  //      step = 0.1 / 0.19 * 0.091 / (sqrt(v or vmax) / sqrt(1 - 0.999^2) + 1e-8).
  auto run = [](bool amsgrad) {
    Tensor x = tensor({0.0}).requires_grad_();
    Adam opt({x}, {.lr = 0.1, .amsgrad = amsgrad});
    for (double g : {1.0, 0.01, 0.01}) {
      x.set_grad(tensor({g}));
      opt.step();
    }
    return x.item();
  };
  const double bc2_2 = std::sqrt(1 - 0.999 * 0.999), bc2_3 = std::sqrt(1 - std::pow(0.999, 3));
  double x = -0.1 / (1 + 1e-8);
  // plain Adam
  double m = 0.091, v = 0.0009991;
  double plain = x - 0.1 / (1 - 0.81) * m / (std::sqrt(v) / bc2_2 + 1e-8);
  m = 0.9 * m + 0.1 * 0.01;
  v = 0.999 * v + 0.001 * 1e-4;
  plain -= 0.1 / (1 - 0.729) * m / (std::sqrt(v) / bc2_3 + 1e-8);
  // AMSGrad: vmax stays 0.001, the first second moment
  m = 0.091;
  double ams = x - 0.1 / (1 - 0.81) * m / (std::sqrt(0.001) / bc2_2 + 1e-8);
  m = 0.9 * m + 0.1 * 0.01;
  ams -= 0.1 / (1 - 0.729) * m / (std::sqrt(0.001) / bc2_3 + 1e-8);
  EXPECT_NEAR(run(false), plain, 1e-14);
  EXPECT_NEAR(run(true), ams, 1e-14);
  EXPECT_GT(run(true), run(false));  // a larger denominator: smaller steps
}

TEST(AdamW, DecaysTheWeightsBeforeTheAdamStep) {
  // x *= 1 - lr * wd = 0.99, then the plain Adam step on g = a x (the gradient was taken before):
  // x1 = [0.99 - 0.1 / (1 + 1e-8), -1.98 + 0.1 / (1 + 1e-8 / 6)].
  Tensor x = start();
  AdamW opt({x}, {.lr = 0.1, .weight_decay = 0.1});
  EXPECT_EQ(opt.name(), "AdamW");
  expect_trajectory(opt, x,
                    {{0.89000000099999999, -1.8800000001666666},
                     {0.78157185695416109, -1.7614089504165513},
                     {0.67510122318920085, -1.6443686833067828}});
}

TEST(AdamW, DefaultWeightDecayIsOneHundredth) {
  Tensor x = start();
  AdamW opt({x});
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].weight_decay, 1e-2);
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 1e-3);
}

TEST(Adam, RejectsBadBetas) {
  Tensor x = start();
  EXPECT_THROW(Adam({x}, {.betas = {1.0, 0.999}}), ValueError);
  EXPECT_THROW(Adam({x}, {.betas = {0.9, -0.1}}), ValueError);
  EXPECT_THROW(Adam({x}, {.eps = -1.0}), ValueError);
}

// ---- RMSprop -------------------------------------------------------------------------------------------

TEST(RMSprop, DividesByTheRootMeanSquare) {
  // v = 0.99 v + 0.01 g^2; x -= 0.01 g / (sqrt(v) + 1e-8).
  // Step 1: v = 0.01 g^2, sqrt(v) = 0.1 |g|: x -= 0.1 sign(g) (up to eps): [0.9, -1.9].
  Tensor x = start();
  RMSprop opt({x}, {.lr = 0.01});
  expect_trajectory(opt, x,
                    {{0.90000000999999907, -1.9000000016666667},
                     {0.83291797526505928, -1.8309433278740568},
                     {0.77998228198235409, -1.7753494441022075}});
}

TEST(RMSprop, CenteredWithMomentumAndWeightDecay) {
  // g = a x + 0.1 x; v = 0.99 v + 0.01 g^2; ga = 0.99 ga + 0.01 g; d = sqrt(v - ga^2) + 1e-8;
  // b = 0.9 b + g / d; x -= 0.01 b.
  // Step 1: g = [1.1, -6.2]; v - ga^2 = 0.01 g^2 - 0.0001 g^2 = 0.0099 g^2, so b = sign(g) / sqrt(0.0099)
  //         and x = [1 - 0.01 / 0.0994987..., ...] = [0.8994962..., -1.8994962...].
  Tensor x = start();
  RMSprop opt({x}, {.lr = 0.01, .weight_decay = 0.1, .momentum = 0.9, .centered = true});
  expect_trajectory(opt, x,
                    {{0.89949622765681447, -1.8994962201032739},
                     {0.74130599065025793, -1.7392987493582337},
                     {0.54965018107514041, -1.5406780169349672}});
}

// ---- Adagrad -------------------------------------------------------------------------------------------

TEST(Adagrad, AccumulatesSquaredGradientsWithLrDecay) {
  // s0 = 0.1; g = a x + 0.1 x; s += g^2; x -= lr_t g / (sqrt(s) + 1e-10), lr_t = 0.1 / (1 + 0.1 (t - 1)).
  // Step 1: g = [1.1, -6.2], s = [1.31, 38.54], x = [1 - 0.1 * 1.1 / sqrt(1.31), -2 + 0.1 * 6.2 / sqrt(38.54)]
  // (+ eps in each denominator).
  Tensor x = start();
  Adagrad opt({x}, {.lr = 0.1, .lr_decay = 0.1, .weight_decay = 0.1, .initial_accumulator_value = 0.1});
  EXPECT_FALSE(opt.has_momentum());
  expect_trajectory(opt, x,
                    {{1.0 - 0.11 / (std::sqrt(1.31) + 1e-10), -2.0 + 0.62 / (std::sqrt(38.54) + 1e-10)},
                     {0.84427344831017537, -1.8375567470424596},
                     {0.80074464524869371, -1.7913811783574562}});
}

// ---- shared behaviour -------------------------------------------------------------------------------------

TEST(Optimizers, Float32ParametersFollowTheFloat64Trajectory) {
  Tensor x = start({1.0, -2.0}, kFloat32);
  Adam opt({x}, {.lr = 0.1});
  expect_trajectory(
      opt, x, {{0.9, -1.9}, {0.80041222971233816, -1.800166485947237}, {0.70158627450441502, -1.7006233917912488}},
      1e-5);
  EXPECT_EQ(x.dtype(), kFloat32);
}

TEST(Optimizers, SkipParametersWithoutGradient) {
  Tensor x = start(), y = start();
  SGD opt({x, y}, {.lr = 0.1});
  set_quadratic_grad(x);
  opt.step();
  EXPECT_EQ(y.to_vector<double>(), (V{1.0, -2.0}));
  EXPECT_NEAR(x.to_vector<double>()[0], 0.9, 1e-15);
}

TEST(Optimizers, UpdateInPlaceKeepingTheHandleAndBumpingTheVersion) {
  Tensor x = start();
  const Tensor alias = x;
  const auto* storage = x.array().storage().get();
  const uint64_t version = x.version();
  Adam opt({x}, {.lr = 0.1});
  set_quadratic_grad(x);
  opt.step();
  EXPECT_EQ(x.array().storage().get(), storage);
  EXPECT_GT(x.version(), version);
  EXPECT_NEAR(alias.to_vector<double>()[0], 0.9, 1e-8);
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(x.grad_fn());
}

TEST(Optimizers, StepRecordsNothingEvenWithGradModeOn) {
  Tensor x = start();
  RMSprop opt({x});
  set_quadratic_grad(x);
  ASSERT_TRUE(is_grad_enabled());
  opt.step();
  EXPECT_TRUE(is_grad_enabled());
  EXPECT_TRUE(x.is_leaf());
}

TEST(Optimizers, UpdateANonContiguousParameterThroughACopy) {
  // A transposed leaf: the update is computed contiguously and written back through the strides.
  Tensor base = Tensor(tensor(V{1, 2, 3, 4, 5, 6}, {2, 3}).array().transpose(0, 1), true);  // [3, 2]
  ASSERT_FALSE(base.is_contiguous());
  base.set_grad(Tensor(kernels::full({3, 2}, 1.0, kFloat64)));
  SGD opt({base}, {.lr = 0.5});
  opt.step();
  // base was [[1, 4], [2, 5], [3, 6]]; minus 0.5 everywhere.
  EXPECT_EQ(base.to_vector<double>(), (V{0.5, 3.5, 1.5, 4.5, 2.5, 5.5}));
}

}  // namespace
}  // namespace xgrad::optim
