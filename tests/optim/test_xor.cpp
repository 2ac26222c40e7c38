// Convergence on a tiny problem: a 2-8-1 MLP learns XOR with Adam (as in PyTorch's own C++ tests).
#include <gtest/gtest.h>

#include "xgrad/nn/nn.hpp"
#include "xgrad/optim/optim.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad {
namespace {

struct XorNet : nn::Module {
  XorNet() {
    fc1 = register_module("fc1", nn::Linear({.in = 2, .out = 8}));
    fc2 = register_module("fc2", nn::Linear({.in = 8, .out = 1}));
  }
  Tensor forward(const Tensor& x) override { return fc2(tanh(fc1(x))); }
  nn::Linear fc1, fc2;
};

TEST(Xor, SmallMlpWithAdamReachesLowLoss) {
  manual_seed(1);
  XorNet net;
  const Tensor x = tensor({{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}});
  const Tensor y = tensor({{0.f}, {1.f}, {1.f}, {0.f}});
  optim::Adam opt(net.parameters(), {.lr = 0.05});
  nn::BCEWithLogitsLoss loss_fn;
  double loss = 1.0;
  for (int step = 0; step < 500 && loss >= 0.05; ++step) {
    opt.zero_grad();
    const Tensor l = loss_fn(net(x), y);
    l.backward();
    opt.step();
    loss = l.item();
  }
  EXPECT_LT(loss, 0.05);
  // And the predictions are right.
  NoGradGuard no_grad;
  const std::vector<float> p = sigmoid(net(x)).to_vector<float>();
  EXPECT_LT(p[0], 0.5f);
  EXPECT_GT(p[1], 0.5f);
  EXPECT_GT(p[2], 0.5f);
  EXPECT_LT(p[3], 0.5f);
}

TEST(Xor, SgdWithMomentumAndASchedulerAlsoConverges) {
  manual_seed(2);
  XorNet net;
  const Tensor x = tensor({{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}});
  const Tensor y = tensor({{0.f}, {1.f}, {1.f}, {0.f}});
  optim::SGD opt(net.parameters(), {.lr = 0.5, .momentum = 0.9});
  optim::StepLR sched(opt, {.step_size = 400, .gamma = 0.5});
  double loss = 1.0;
  for (int step = 0; step < 1000 && loss >= 0.05; ++step) {
    opt.zero_grad();
    const Tensor l = nn::functional::mse_loss(sigmoid(net(x)), y);
    l.backward();
    optim::clip_grad_norm_(net.parameters(), 5.0);
    opt.step();
    sched.step();
    loss = l.item();
  }
  EXPECT_LT(loss, 0.05);
}

}  // namespace
}  // namespace xgrad
