// Module: registration and dotted names, traversal, modes, freezing, casting, printing, summary.
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "xgrad/nn/nn.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::nn {
namespace {

using Names = std::vector<std::string>;

struct Mlp : Module {
  Mlp() {
    fc1 = register_module("fc1", Linear({.in = 4, .out = 3}));
    fc2 = register_module("fc2", Linear({.in = 3, .out = 2}));
  }
  Tensor forward(const Tensor& x) override { return fc2(relu(fc1(x))); }
  Linear fc1, fc2;
};

// A model with a nested container, a buffer and a dropout.
struct Net : Module {
  Net() {
    body = register_module("body", Sequential({Linear(4, 8), ReLU(), Dropout(0.5), Linear(8, 4)}));
    head = register_module("head", Mlp());
    steps = register_buffer("steps", zeros({1}, {.dtype = kInt64}));
    scale = register_buffer("scale", ones({4}));
  }
  Tensor forward(const Tensor& x) override { return head(flatten(body(x), 1) * scale); }
  Sequential body;
  Mlp head;
  Tensor steps, scale;
};

template <class Pairs> Names names_of(const Pairs& pairs) {
  Names out;
  for (const auto& p : pairs) out.push_back(p.first);
  return out;
}

int64_t count(const std::vector<Tensor>& ts) {
  int64_t n = 0;
  for (const Tensor& t : ts) n += t.numel();
  return n;
}

TEST(Module, NamedParametersUseDottedPathsInRegistrationOrder) {
  Mlp m;
  const auto named = m.named_parameters();
  EXPECT_EQ(names_of(named), (Names{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(named[0].second.shape(), (Shape{3, 4}));  // PyTorch's [out, in]
  EXPECT_EQ(named[1].second.shape(), (Shape{3}));
  EXPECT_EQ(named[2].second.shape(), (Shape{2, 3}));
  EXPECT_EQ(count(m.parameters()), 12 + 3 + 6 + 2);
  EXPECT_TRUE(named[0].second.is_same(m.fc1.weight));  // the registered tensor is the member
  for (const Tensor& p : m.parameters()) EXPECT_TRUE(p.requires_grad());
  EXPECT_EQ(names_of(m.named_parameters(/*recurse=*/false)), Names{});
}

TEST(Module, SequentialChildrenAreNamedByPosition) {
  Sequential seq({Linear(2, 3), ReLU(), Linear(3, 1, /*with_bias=*/false)});
  EXPECT_EQ(seq.size(), 3u);
  EXPECT_EQ(names_of(seq.named_parameters()), (Names{"0.weight", "0.bias", "2.weight"}));
  EXPECT_EQ(names_of(seq.named_children()), (Names{"0", "1", "2"}));
  EXPECT_EQ(seq.at<Linear>(0).weight.shape(), (Shape{3, 2}));
  EXPECT_EQ(seq[1]->type_name(), "ReLU");
  EXPECT_THROW(seq.at<Linear>(1), ValueError);
  EXPECT_THROW(seq[3], IndexError);
  seq.push_back(Sigmoid());
  EXPECT_EQ(seq[3]->type_name(), "Sigmoid");
}

TEST(Module, NestedModelsNameEveryLevel) {
  Net net;
  EXPECT_EQ(names_of(net.named_parameters()),
            (Names{"body.0.weight", "body.0.bias", "body.3.weight", "body.3.bias", "head.fc1.weight", "head.fc1.bias",
                   "head.fc2.weight", "head.fc2.bias"}));
  EXPECT_EQ(names_of(net.named_buffers()), (Names{"steps", "scale"}));
  EXPECT_EQ(names_of(net.named_children()), (Names{"body", "head"}));
  EXPECT_EQ(names_of(net.named_modules()),
            (Names{"", "body", "body.0", "body.1", "body.2", "body.3", "head", "head.fc1", "head.fc2"}));
  EXPECT_EQ(net.modules().size(), 9u);
  EXPECT_EQ(net.children().size(), 2u);
  EXPECT_EQ(net.modules()[0], &net);
  for (const Tensor& b : net.buffers()) EXPECT_FALSE(b.requires_grad());
}

TEST(Module, HandlesShareOneModule) {
  Linear a(2, 3);
  Linear b = a;  // a second handle, not a copy of the layer
  EXPECT_TRUE(a.weight.is_same(b.weight));
  b.eval();
  EXPECT_FALSE(a.is_training());
  Mlp m;
  m.fc1.eval();  // the member and the registered child are one module
  EXPECT_FALSE(m.children()[0]->is_training());
}

TEST(Module, SharedParametersAreListedOnce) {
  struct Tied : Module {
    Tied() {
      Linear shared(3, 3);
      a = register_module("a", shared);
      b = register_module("b", shared);
    }
    Linear a, b;
  } tied;
  EXPECT_EQ(names_of(tied.named_parameters()), (Names{"a.weight", "a.bias"}));
  EXPECT_EQ(tied.named_modules().size(), 2u);
}

TEST(Module, TrainAndEvalReachEveryDescendant) {
  Net net;
  EXPECT_TRUE(net.is_training());
  net.eval();
  for (Module* m : net.modules()) EXPECT_FALSE(m->is_training());
  net.train();
  for (Module* m : net.modules()) EXPECT_TRUE(m->is_training());
  net.body.train(false);
  EXPECT_TRUE(net.is_training());
  EXPECT_FALSE(net.body[2]->is_training());
}

TEST(Module, ApplyVisitsChildrenBeforeTheirParent) {
  Sequential seq({Linear(2, 2), Sequential({ReLU(), Tanh()})});
  std::vector<std::string> order;
  seq.apply([&order](Module& m) { order.push_back(m.type_name()); });
  EXPECT_EQ(order, (Names{"Linear", "ReLU", "Tanh", "Sequential", "Sequential"}));
}

TEST(Module, ApplyCanReinitialiseLayers) {
  Mlp m;
  m.apply([](Module& mod) {
    if (auto* lin = dynamic_cast<Linear*>(&mod)) {
      init::ones_(lin->weight);
      init::zeros_(lin->bias);
    }
  });
  EXPECT_EQ(m.fc2.weight.to_vector<float>(), std::vector<float>(6, 1.0f));
  EXPECT_EQ(m.fc1.bias.to_vector<float>(), std::vector<float>(3, 0.0f));
}

TEST(Module, ZeroGradClearsEveryGradient) {
  Mlp m;
  sum(m(ones({2, 4}))).backward();
  for (const Tensor& p : m.parameters()) EXPECT_TRUE(p.grad().defined());
  m.zero_grad();
  for (const Tensor& p : m.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, FreezingASubtreeStopsItsGradients) {
  Mlp m;
  m.fc1.requires_grad_(false);
  sum(m(ones({2, 4}))).backward();
  EXPECT_FALSE(m.fc1.weight.grad().defined());
  EXPECT_FALSE(m.fc1.bias.grad().defined());
  EXPECT_TRUE(m.fc2.weight.grad().defined());
  m.requires_grad_(true);
  EXPECT_TRUE(m.fc1.weight.requires_grad());
}

TEST(Module, CastToFloat64AndBackKeepsTheHandles) {
  Net net;
  const Tensor w = net.head.fc1.weight;
  const std::vector<float> before = w.to_vector<float>();
  net.to(kFloat64);
  EXPECT_TRUE(w.is_same(net.head.fc1.weight));
  for (const Tensor& p : net.parameters()) EXPECT_EQ(p.dtype(), kFloat64);
  EXPECT_EQ(net.scale.dtype(), kFloat64);
  EXPECT_EQ(net.steps.dtype(), kInt64);  // integer buffers stay
  net.eval();
  EXPECT_EQ(net(ones({2, 4}, {.dtype = kFloat64})).dtype(), kFloat64);
  net.to(kFloat32);
  EXPECT_EQ(w.dtype(), kFloat32);
  EXPECT_EQ(w.to_vector<float>(), before);  // float32 -> float64 -> float32 is exact
  EXPECT_THROW(net.to(kInt64), DTypeError);
}

TEST(Module, RegistrationErrorsNameTheProblem) {
  Module m;
  m.register_parameter("w", ones({2}));
  EXPECT_THROW(m.register_parameter("w", ones({2})), ValueError);
  EXPECT_THROW(m.register_buffer("w", ones({2})), ValueError);
  EXPECT_THROW(m.register_module("w", ReLU()), ValueError);
  EXPECT_THROW(m.register_parameter("a.b", ones({2})), ValueError);
  EXPECT_THROW(m.register_parameter("", ones({2})), ValueError);
  EXPECT_THROW(m.register_parameter("u", Tensor()), ValueError);
  EXPECT_THROW(m.register_parameter("i", ones({2}, {.dtype = kInt64})), DTypeError);
  m.register_parameter("counts", ones({2}, {.dtype = kInt64}), /*requires_grad=*/false);
  const Tensor leaf = ones({2}, {.requires_grad = true});
  EXPECT_THROW(m.register_parameter("made", leaf * 2.0), ValueError);
  try {
    m.register_parameter("a.b", ones({2}));
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'a.b'"), std::string::npos) << e.what();
  }
}

TEST(Module, ForwardOfABaseModuleThrows) {
  Module m;
  try {
    m(ones({1}));
    ADD_FAILURE() << "no exception";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("Module: forward is not implemented"), std::string::npos) << e.what();
  }
}

TEST(Module, PrintsTheTreeLikePyTorch) {
  Sequential seq({Linear(2, 3), ReLU(), Dropout(0.25), LeakyReLU(0.2)});
  EXPECT_EQ(seq.to_string(),
            "Sequential(\n"
            "  (0): Linear(in_features=2, out_features=3, bias=true)\n"
            "  (1): ReLU()\n"
            "  (2): Dropout(p=0.25)\n"
            "  (3): LeakyReLU(negative_slope=0.2)\n"
            ")");
  Mlp m;
  std::ostringstream os;
  os << m;
  EXPECT_EQ(os.str(),
            "Mlp(\n"
            "  (fc1): Linear(in_features=4, out_features=3, bias=true)\n"
            "  (fc2): Linear(in_features=3, out_features=2, bias=true)\n"
            ")");
  Sequential nested({Sequential({Tanh()})});
  EXPECT_EQ(nested.to_string(), "Sequential(\n  (0): Sequential(\n    (0): Tanh()\n  )\n)");
}

TEST(Summary, ListsLayersShapesAndParameterCounts) {
  Net net;
  net.head.fc1.requires_grad_(false);
  const std::string s = net.summary({5, 4});
  EXPECT_NE(s.find("Model: \"Net\""), std::string::npos) << s;
  EXPECT_NE(s.find("body.0 (Linear)"), std::string::npos) << s;
  EXPECT_NE(s.find("body.2 (Dropout)"), std::string::npos) << s;
  EXPECT_NE(s.find("head.fc2 (Linear)"), std::string::npos) << s;
  EXPECT_NE(s.find("[5, 8]"), std::string::npos) << s;
  EXPECT_NE(s.find("[5, 2]"), std::string::npos) << s;
  // body: 4*8+8 + 8*4+4 = 76; head: 15 + 8 = 23 of which fc1's 15 are frozen.
  EXPECT_NE(s.find("Total params: 99"), std::string::npos) << s;
  EXPECT_NE(s.find("Trainable params: 84"), std::string::npos) << s;
  EXPECT_NE(s.find("Non-trainable params: 15"), std::string::npos) << s;
  // Rows in call order.
  EXPECT_LT(s.find("body.0 (Linear)"), s.find("body.3 (Linear)"));
  EXPECT_LT(s.find("body.3 (Linear)"), s.find("head.fc1 (Linear)"));
}

TEST(Summary, RestoresModesAndDrawsNoRandomNumbers) {
  Net net;
  net.head.eval();
  manual_seed(3);
  const std::string state = default_generator().state();
  net.summary({2, 4});
  EXPECT_EQ(default_generator().state(), state);
  EXPECT_TRUE(net.is_training());
  EXPECT_TRUE(net.body[2]->is_training());
  EXPECT_FALSE(net.head.is_training());
}

TEST(Summary, ALayerAloneIsItsOwnRowAndCountsUseCommas) {
  Linear big(1000, 1000);
  const std::string s = big.summary({1, 1000});
  EXPECT_NE(s.find("Linear"), std::string::npos) << s;
  EXPECT_NE(s.find("1,001,000"), std::string::npos) << s;
  EXPECT_NE(s.find("[1, 1000]"), std::string::npos) << s;
  std::ostringstream os;
  big.print_summary({1, 1000}, os);
  EXPECT_EQ(os.str(), s);
}

TEST(Summary, ForwardErrorsPropagateAndLeaveNoTracer) {
  Mlp m;
  EXPECT_THROW(m.summary({2, 5}), ShapeError);  // 5 features for a 4-feature layer
  EXPECT_TRUE(m.is_training());
  EXPECT_EQ(m(ones({2, 4})).shape(), (Shape{2, 2}));
}

}  // namespace
}  // namespace xgrad::nn
