// The Optimizer base: parameter groups, zero_grad, state save/restore, errors.
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "xgrad/optim/optim.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::optim {
namespace {

using V = std::vector<double>;

Tensor param(const V& values) { return Tensor(tensor(values, {static_cast<int64_t>(values.size())}).array(), true); }

// .grad = x (the gradient of 0.5 * |x|^2).
void set_grad_to_value(const Tensor& x) { x.set_grad(Tensor(x.array().clone())); }

TEST(ParamGroups, EachGroupUsesItsOwnLearningRate) {
  Tensor a = param({1.0}), b = param({1.0});
  SGD opt({ParamGroup{.params = {a}}, ParamGroup{.params = {b}, .lr = 0.5}}, {.lr = 0.1});
  ASSERT_EQ(opt.param_groups().size(), 2u);
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 0.1);  // the default filled in
  EXPECT_DOUBLE_EQ(opt.param_groups()[1].lr, 0.5);
  set_grad_to_value(a);
  set_grad_to_value(b);
  opt.step();
  EXPECT_DOUBLE_EQ(a.item(), 0.9);  // 1 - 0.1 * 1
  EXPECT_DOUBLE_EQ(b.item(), 0.5);  // 1 - 0.5 * 1
}

TEST(ParamGroups, PerGroupWeightDecayAndMomentum) {
  Tensor a = param({1.0}), b = param({1.0});
  Adam opt({ParamGroup{.params = {a}, .weight_decay = 0.0}, ParamGroup{.params = {b}, .weight_decay = 0.5}},
           {.lr = 0.1, .betas = {0.8, 0.999}});
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].momentum, 0.8);  // Adam's beta1 lives in the group
  EXPECT_DOUBLE_EQ(opt.param_groups()[1].weight_decay, 0.5);
}

TEST(ParamGroups, AddParamGroupLaterAndChangeTheLrInPlace) {
  Tensor a = param({1.0}), b = param({2.0});
  SGD opt({a}, {.lr = 0.1});
  opt.add_param_group({.params = {b}, .lr = 1.0});
  opt.param_groups()[0].lr = 0.2;  // what schedulers do
  set_grad_to_value(a);
  set_grad_to_value(b);
  opt.step();
  EXPECT_DOUBLE_EQ(a.item(), 0.8);
  EXPECT_DOUBLE_EQ(b.item(), 0.0);
}

TEST(ParamGroups, RejectBadParameters) {
  Tensor a = param({1.0});
  EXPECT_THROW(SGD({ParamGroup{.params = {a}}, ParamGroup{.params = {a}}}), ValueError);  // twice
  EXPECT_THROW(SGD({Tensor()}), ValueError);
  EXPECT_THROW(SGD({tensor({1, 2})}), DTypeError);  // int64
  EXPECT_THROW(SGD({a}, {.weight_decay = -1.0}), ValueError);
  try {
    SGD({ParamGroup{.params = {a}}, ParamGroup{.params = {a}}});
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("SGD: parameter group 1"), std::string::npos) << e.what();
  }
}

TEST(ZeroGrad, ClearsEveryGradient) {
  Tensor a = param({1.0}), b = param({1.0, 2.0});
  Adam opt({a, b});
  set_grad_to_value(a);
  set_grad_to_value(b);
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}

// Runs n Adam/SGD steps of f = 0.5 * sum(x^2) + 0.5 * sum(y^2) on (x, y).
void run(Optimizer& opt, const std::vector<Tensor>& params, int n) {
  for (int i = 0; i < n; ++i) {
    for (const Tensor& p : params) set_grad_to_value(p);
    opt.step();
  }
}

template <class Opt, class Options> void expect_identical_continuation(Options options) {
  // Reference: 6 uninterrupted steps.
  Tensor x = param({1.0, -2.0, 3.0}), y = param({0.5});
  Opt reference({ParamGroup{.params = {x}}, ParamGroup{.params = {y}, .lr = 0.05}}, options);
  run(reference, {x, y}, 6);

  // 3 steps, save, then a fresh optimizer over fresh parameters holding the same values continues.
  Tensor x1 = param({1.0, -2.0, 3.0}), y1 = param({0.5});
  Opt first({ParamGroup{.params = {x1}}, ParamGroup{.params = {y1}, .lr = 0.05}}, options);
  run(first, {x1, y1}, 3);
  const OptimizerState saved = first.state_dict();
  run(first, {x1, y1}, 1);  // the saved state is a copy: later steps must not change it

  Tensor x2 = param({0.0, 0.0, 0.0}), y2 = param({0.0});
  Opt second({ParamGroup{.params = {x2}}, ParamGroup{.params = {y2}, .lr = 0.05}}, options);
  second.load_state_dict(saved);
  Tensor x_at3 = param({1.0, -2.0, 3.0}), y_at3 = param({0.5});
  {
    Opt replay({ParamGroup{.params = {x_at3}}, ParamGroup{.params = {y_at3}, .lr = 0.05}}, options);
    run(replay, {x_at3, y_at3}, 3);
  }
  x2.copy_(x_at3.detach());  // parameters are restored separately (a module's state dict)
  y2.copy_(y_at3.detach());
  run(second, {x2, y2}, 3);
  EXPECT_EQ(x2.to_vector<double>(), x.to_vector<double>());
  EXPECT_EQ(y2.to_vector<double>(), y.to_vector<double>());
}

TEST(OptimizerState, SaveAndRestoreContinueIdentically) {
  NoGradGuard no_grad;  // copy_ into leaves that require grad
  expect_identical_continuation<Adam>(AdamOptions{.lr = 0.1, .amsgrad = true});
  expect_identical_continuation<AdamW>(AdamWOptions{.lr = 0.1});
  expect_identical_continuation<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
  expect_identical_continuation<RMSprop>(RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true});
  expect_identical_continuation<Adagrad>(AdagradOptions{.lr = 0.1, .lr_decay = 0.01});
}

TEST(OptimizerState, NamesFollowPyTorchLayout) {
  Tensor x = param({1.0, 2.0}), y = param({3.0});
  Adam opt({ParamGroup{.params = {x}}, ParamGroup{.params = {y}, .lr = 0.5}});
  set_grad_to_value(y);  // only y (parameter 1 overall) gets state
  opt.step();
  const OptimizerState s = opt.state_dict();
  EXPECT_DOUBLE_EQ(s.scalars.at("param_groups.0.lr"), 1e-3);
  EXPECT_DOUBLE_EQ(s.scalars.at("param_groups.1.lr"), 0.5);
  EXPECT_DOUBLE_EQ(s.scalars.at("param_groups.1.size"), 1.0);
  EXPECT_DOUBLE_EQ(s.scalars.at("state.1.step"), 1.0);
  EXPECT_EQ(s.scalars.count("state.0.step"), 0u);
  ASSERT_EQ(s.tensors.count("state.1.exp_avg"), 1u);
  EXPECT_NEAR(s.tensors.at("state.1.exp_avg").item(), 0.1 * 3.0, 1e-15);  // (1 - 0.9) g
  EXPECT_NEAR(s.tensors.at("state.1.exp_avg_sq").item(), 0.001 * 9.0, 1e-15);
  EXPECT_EQ(s.tensors.count("state.1.max_exp_avg_sq"), 0u);  // no amsgrad
}

TEST(OptimizerState, LoadRejectsMismatchedGroupsAndShapes) {
  Tensor x = param({1.0, 2.0});
  Adam opt({x});
  set_grad_to_value(x);
  opt.step();
  const OptimizerState s = opt.state_dict();

  Tensor a = param({1.0, 2.0}), b = param({1.0});
  Adam two_params({a, b});
  EXPECT_THROW(two_params.load_state_dict(s), ValueError);
  Adam two_groups({ParamGroup{.params = {a}}, ParamGroup{.params = {b}}});
  EXPECT_THROW(two_groups.load_state_dict(s), ValueError);
  Tensor c = param({1.0, 2.0, 3.0});
  Adam other_shape({c});
  EXPECT_THROW(other_shape.load_state_dict(s), ShapeError);
  Adam empty_state({a});
  EXPECT_THROW(empty_state.load_state_dict(OptimizerState{}), ValueError);
}

TEST(OptimizerState, FollowsAParameterCastToAnotherDtype) {
  // Module::to(kFloat32) replaces the values in place; the state converts on the next step.
  Tensor x = param({1.0, 2.0});
  Adam opt({x}, {.lr = 0.1});
  set_grad_to_value(x);
  opt.step();
  x.impl()->value = x.array().to(kFloat32);
  set_grad_to_value(x);
  opt.step();
  EXPECT_EQ(x.dtype(), kFloat32);
  EXPECT_EQ(opt.state_dict().tensors.at("state.0.exp_avg").dtype(), kFloat32);
}

}  // namespace
}  // namespace xgrad::optim
