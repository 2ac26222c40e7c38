// Module::state_dict / load_state_dict: PyTorch's names and order, in-place loading, strictness.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/expect.hpp"
#include "xgrad/nn/nn.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::nn {
namespace {

using testing::expect_error;
using testing::expect_near;
using Names = std::vector<std::string>;

// Own parameters, a buffer, and children (one a Sequential, so indices appear in names).
struct Net : Module {
  Net() {
    scale = register_parameter("scale", ones({1}));
    body = register_module("body", Sequential({Linear(2, 3), ReLU(), Linear(3, 2, /*with_bias=*/false)}));
    steps = register_buffer("steps", zeros({}, {.dtype = kInt64}));
    head = register_module("head", Linear(2, 1));
  }
  Tensor forward(const Tensor& x) override { return head(body(x) * scale); }
  Tensor scale, steps;
  Sequential body;
  Linear head;
};

Names names_of(const StateDict& state) {
  Names names;
  for (const auto& entry : state) names.push_back(entry.first);
  return names;
}

TEST(StateDict, PyTorchNamesAndOrder) {
  Net net;
  // PyTorch: own parameters, own buffers, then each child in registration order.
  EXPECT_EQ(names_of(net.state_dict()),
            (Names{"scale", "steps", "body.0.weight", "body.0.bias", "body.2.weight", "head.weight", "head.bias"}));
  const StateDict state = net.state_dict();
  EXPECT_EQ(state[2].second.shape(), (Shape{3, 2}));  // Linear weight [out, in]
  EXPECT_EQ(state[1].second.dtype(), kInt64);
}

TEST(StateDict, EntriesAreDetachedAliases) {
  Net net;
  const StateDict state = net.state_dict();
  EXPECT_FALSE(state[0].second.requires_grad());
  // An alias: the value changes with the module's parameter.
  {
    NoGradGuard no_grad;
    net.scale.fill_(4.0);
  }
  expect_near(state[0].second, {4.0});
}

TEST(StateDict, RoundTripCopiesInPlaceAndKeepsHandles) {
  Net source, target;
  const Tensor weight_handle = target.body[0]->named_parameters()[0].second;
  {
    NoGradGuard no_grad;
    source.scale.fill_(2.5);
    source.steps.fill_(7);
  }
  const LoadStateDictResult result = target.load_state_dict(source.state_dict());
  EXPECT_TRUE(result.ok());
  expect_near(target.scale, {2.5});
  EXPECT_EQ(target.steps.item(), 7.0);
  EXPECT_TRUE(target.scale.requires_grad());  // still a trainable parameter
  // Same handle, new values.
  EXPECT_EQ(weight_handle.impl(), target.body[0]->named_parameters()[0].second.impl());
  EXPECT_EQ(testing::values(weight_handle.array()),
            testing::values(source.body[0]->named_parameters()[0].second.array()));
  // Same outputs.
  const Tensor x = tensor({{0.5, -1.0}, {2.0, 0.25}}).to(kFloat32);
  EXPECT_EQ(testing::values(source(x).array()), testing::values(target(x).array()));
}

TEST(StateDict, ConvertsDtypeLikeCopy) {
  Linear layer(2, 1);
  StateDict state = layer.state_dict();
  state[0].second = tensor({{1.0, -2.0}});  // float64 into a float32 parameter
  state[1].second = tensor({3.0});
  layer.load_state_dict(state);
  EXPECT_EQ(layer.weight.dtype(), kFloat32);
  expect_near(layer.weight, {1.0, -2.0});
  expect_near(layer.bias, {3.0});
}

TEST(StateDict, StrictReportsEveryProblemByNameAndLoadsNothing) {
  Net net;
  StateDict state = net.state_dict();
  const std::vector<double> before = testing::values(net.scale.array());
  state[0].second = full({1}, 9.0);              // "scale" would load...
  state.erase(state.begin() + 5);                // ...but "head.weight" is missing,
  state.emplace_back("head.extra", zeros({1}));  // "head.extra" is unexpected,
  state[2].second = zeros({2, 2});               // "body.0.weight" has the wrong shape.
  expect_error<ValueError>(
      [&] { net.load_state_dict(state); },
      {"load_state_dict", "Net", "missing key(s): 'head.weight'", "unexpected key(s): 'head.extra'",
       "size mismatch for 'body.0.weight'", "[2, 2]", "[3, 2]"});
  EXPECT_EQ(testing::values(net.scale.array()), before);  // unchanged
}

TEST(StateDict, NonStrictLoadsWhatMatchesAndReturnsTheLists) {
  Net net;
  StateDict state = net.state_dict();
  state[0].second = full({1}, 9.0);
  state.erase(state.begin() + 5);
  state.emplace_back("head.extra", zeros({1}));
  state[2].second = zeros({2, 2});
  const LoadStateDictResult result = net.load_state_dict(state, /*strict=*/false);
  EXPECT_EQ(result.missing_keys, Names{"head.weight"});
  EXPECT_EQ(result.unexpected_keys, Names{"head.extra"});
  EXPECT_EQ(result.mismatched_keys, Names{"body.0.weight"});
  EXPECT_FALSE(result.ok());
  expect_near(net.scale, {9.0});
}

TEST(StateDict, DuplicateOrUndefinedEntriesAreErrors) {
  Linear layer(2, 1);
  StateDict state = layer.state_dict();
  state.push_back(state[0]);
  expect_error<ValueError>([&] { layer.load_state_dict(state, false); }, {"'weight' twice"});
  StateDict undefined{{"weight", Tensor{}}};
  expect_error<ValueError>([&] { layer.load_state_dict(undefined, false); }, {"'weight'", "undefined"});
}

TEST(StateDict, TiedWeightsAppearUnderBothNames) {
  struct Tied : Module {
    Tied() {
      a = register_module("a", Linear(2, 2));
      b = register_module("b", a);  // the same layer twice
    }
    Linear a, b;
  } tied;
  EXPECT_EQ(names_of(tied.state_dict()), (Names{"a.weight", "a.bias", "b.weight", "b.bias"}));
  EXPECT_EQ(tied.parameters().size(), 2u);  // parameters() still lists each tensor once
}

}  // namespace
}  // namespace xgrad::nn
