// The backward engine: accumulation, retain_graph, the functional grad(), higher order, modes,
// hooks, in-place detection, anomaly mode, memory (no cycles, no recursion) and threads.
#include <thread>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad {
namespace {

using namespace xgrad::testing;

TEST(Engine, ScalarBackwardGivesTheDerivative) {
  Tensor x = leaf({1, -2, 3});
  (x * x).sum().backward();
  expect_near(x.grad(), {2, -4, 6});
}

TEST(Engine, ExplicitGradientForANonScalarOutput) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 3.0;
  y.backward(tensor({10.0, 100.0}));
  expect_near(x.grad(), {30, 300});
}

TEST(Engine, NonScalarWithoutGradientIsAnError) {
  Tensor x = leaf({1, 2});
  expect_error<AutogradError>([&] { (x * 2.0).backward(); }, {"one-element"});
}

TEST(Engine, GradientShapeMustMatchTheOutput) {
  Tensor x = leaf({1, 2});
  expect_error<ShapeError>([&] { (x * 2.0).backward(tensor({1.0, 2.0, 3.0})); }, {"[3]"});
}

TEST(Engine, OutputWithoutGraphIsAnError) {
  Tensor x = tensor({1.0, 2.0});
  expect_error<AutogradError>([&] { x.sum().backward(); }, {"does not require grad"});
}

TEST(Engine, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = leaf({1, 2});
  Tensor y = (x * x).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  expect_near(x.grad(), {4, 8});
}

TEST(Engine, SecondBackwardThroughAFreedGraphNamesTheOp) {
  Tensor x = leaf({1, 2});
  Tensor y = (x * x).sum();
  y.backward();
  expect_error<AutogradError>([&] { y.backward(); }, {"second time"});
}

TEST(Engine, ADiamondSumsBothPaths) {
  Tensor x = leaf({2});
  Tensor a = x * 3.0;
  Tensor y = a * a + a;  // y = 9x^2 + 3x, dy/dx = 18x + 3
  y.sum().backward();
  expect_near(x.grad(), {39});
}

TEST(Engine, LeavesSharingOneGradientGetSeparateBuffers) {
  // add's backward hands one tensor to both inputs: one leaf may keep it, the other must copy.
  Tensor a = leaf({1, 2}), c = leaf({3, 4});
  (a + c).sum().backward();
  EXPECT_NE(a.grad().array().storage(), c.grad().array().storage());
  a.grad().add_(tensor({10.0, 10.0}));
  expect_near(c.grad(), {1, 1});
  expect_near(a.grad(), {11, 11});
}

TEST(Engine, ALeafGradientIsKeptRatherThanCopiedOnceOtherUsersAreDone) {
  // relu(a * b + c): c's gradient is also mul's input gradient; leaves accumulate last, so by
  // then mul's backward has dropped it and c keeps that very buffer (no copy).
  Tensor a = leaf({1, -2, 3}), b = leaf({2, 2, -1}), c = leaf({0.5, 0.5, 0.5});
  Tensor y = relu(a * b + c);      // 2.5, -3.5 -> 0, -2.5 -> 0
  const void* arriving = nullptr;  // where c's incoming gradient lives (the hook keeps no handle)
  c.register_hook([&](const Tensor& g) {
    arriving = g.array().raw_data();
    return Tensor();
  });
  y.sum().backward();
  expect_near(c.grad(), {1, 0, 0});
  expect_near(a.grad(), {2, 0, 0});
  expect_near(b.grad(), {1, 0, 0});
  EXPECT_EQ(c.grad().array().raw_data(), arriving);
}

TEST(Engine, FunctionalGradLeavesDotGradAlone) {
  Tensor x = leaf({1, 2});
  Tensor w = leaf({3, 4});
  Tensor y = (x * w).sum();
  std::vector<Tensor> g = grad({y}, {x, w});
  expect_near(g[0], {3, 4});
  expect_near(g[1], {1, 2});
  EXPECT_FALSE(x.grad().defined());
}

TEST(Engine, GradOfANonLeafInput) {
  Tensor x = leaf({1, 2});
  Tensor h = x * 2.0;
  Tensor y = (h * h).sum();
  expect_near(grad({y}, {h})[0], {4, 8});
}

TEST(Engine, UnusedInputsAreAnErrorUnlessAllowed) {
  Tensor x = leaf({1});
  Tensor z = leaf({1});
  Tensor y = (x * 2.0).sum();
  expect_error<ValueError>([&] { grad({y}, {x, z}, {}, true); }, {"input 1"});
  std::vector<Tensor> g = grad({y}, {x, z}, {}, true, false, /*allow_unused=*/true);
  expect_near(g[0], {2});
  EXPECT_FALSE(g[1].defined());
}

TEST(Engine, GradOnlyRunsTheNodesItNeeds) {
  int calls = 0;
  Tensor x = leaf({1});
  Tensor z = leaf({1});
  Tensor side = custom_op(
      "counted", {z}, [](const std::vector<Tensor>& in) { return in[0] * 1.0; },
      [&calls](const Backward& c) -> Grads {
        ++calls;
        return {c.grad};
      });
  Tensor y = (x * 2.0 + side).sum();
  grad({y}, {x});
  EXPECT_EQ(calls, 0);
  y = (x * 2.0 + side).sum();
  y.backward();
  EXPECT_EQ(calls, 1);
}

TEST(Engine, SecondDerivativeWithCreateGraph) {
  Tensor x = leaf({2, -1});
  Tensor y = (x * x * x).sum();  // dy = 3x^2, d2y = 6x
  std::vector<Tensor> g = grad({y}, {x}, {}, {}, /*create_graph=*/true);
  expect_near(g[0], {12, 3});
  EXPECT_TRUE(g[0].requires_grad());
  std::vector<Tensor> h = grad({g[0].sum()}, {x});
  expect_near(h[0], {12, -6});
}

TEST(Engine, HessianVectorProduct) {
  // f = sum(x^2 * y): H_xx = 2y, H_xy = 2x. Hv for v = (vx, vy) on x: 2y*vx + 2x*vy.
  Tensor x = leaf({1, 2});
  Tensor y = leaf({3, 4});
  Tensor f = (x * x * y).sum();
  std::vector<Tensor> g = grad({f}, {x, y}, {}, {}, true);
  Tensor vx = tensor({1.0, 1.0});
  Tensor vy = tensor({0.5, -1.0});
  Tensor dot = (g[0] * vx).sum() + (g[1] * vy).sum();
  std::vector<Tensor> hv = grad({dot}, {x, y});
  expect_near(hv[0], {2 * 3 * 1 + 2 * 1 * 0.5, 2 * 4 * 1 + 2 * 2 * -1.0});
  expect_near(hv[1], {2 * 1 * 1, 2 * 2 * 1});
}

TEST(Engine, GradientPenaltyBackpropagatesIntoLeafGrad) {
  // f = sum(w * x^2); penalty = |df/dx|^2 = sum(4 w^2 x^2); d penalty / dw = 8 w x^2.
  Tensor x = leaf({1, 2});
  Tensor w = leaf({3, -1});
  Tensor f = (w * x * x).sum();
  Tensor gx = grad({f}, {x}, {}, {}, true)[0];
  (gx * gx).sum().backward();
  expect_near(w.grad(), {8 * 3 * 1, 8 * -1 * 4});
  expect_near(x.grad(), {8 * 9 * 1, 8 * 1 * 2});
}

TEST(Engine, BackwardWithCreateGraphMakesDifferentiableLeafGrads) {
  Tensor x = leaf({3});
  (x * x * x).sum().backward({}, {}, /*create_graph=*/true);  // retain_graph follows create_graph
  Tensor g = x.grad();                                        // 3x^2 = 27
  expect_near(g, {27});
  EXPECT_TRUE(g.requires_grad());
  std::vector<Tensor> h = grad({g.sum()}, {x});
  expect_near(h[0], {18});
}

TEST(Engine, NoGradGuardRecordsNothing) {
  Tensor x = leaf({1});
  Tensor y;
  {
    NoGradGuard guard;
    y = x * 2.0;
    EXPECT_FALSE(is_grad_enabled());
  }
  EXPECT_TRUE(is_grad_enabled());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST(Engine, DetachCutsTheGraphButSharesValues) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 2.0;
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.array().storage(), y.array().storage());
  Tensor z = (d * x).sum();
  z.backward();
  expect_near(x.grad(), {2, 4});
}

TEST(Engine, LeafAndNonLeaf) {
  Tensor x = leaf({1});
  Tensor y = x * 2.0;
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_EQ(y.grad_fn()->name(), "mul");
  EXPECT_TRUE(tensor({1.0}).is_leaf());
}

TEST(Engine, OnlyFloatingTensorsRequireGrad) {
  Tensor i = tensor({1, 2});
  expect_error<DTypeError>([&] { i.requires_grad_(); }, {"int64"});
}

TEST(Engine, RetainGradKeepsANonLeafGradient) {
  Tensor x = leaf({1, 2});
  Tensor h = x * 3.0;
  h.retain_grad();
  Tensor y = (h * h).sum();
  y.backward();
  expect_near(h.grad(), {6, 12});
  Tensor k = x * 3.0;
  (k * k).sum().backward();
  EXPECT_FALSE(k.grad().defined());
}

TEST(Engine, HooksSeeAndReplaceGradients) {
  Tensor x = leaf({1, 2});
  Tensor seen;
  const int64_t id = x.register_hook([&seen](const Tensor& g) {
    seen = g;
    return g * 10.0;
  });
  Tensor h = x * 2.0;
  h.register_hook([](const Tensor& g) { return g + 1.0; });
  h.sum().backward();  // dh = 1 -> hook 2 -> dx = 2*2 = 4 -> hook x10
  expect_near(seen, {4, 4});
  expect_near(x.grad(), {40, 40});
  x.remove_hook(id);
  x.set_grad(Tensor());
  (x * 1.0).sum().backward();
  expect_near(x.grad(), {1, 1});
}

TEST(Engine, InPlaceChangeOfASavedValueIsCaught) {
  Tensor x = leaf({1, 2});
  Tensor y = exp(x);  // saves its output
  {
    NoGradGuard guard;
    y.add_(1.0);
  }
  expect_error<AutogradError>([&] { y.sum().backward(); }, {"exp"});
  Tensor a = leaf({1, 2});
  Tensor b = a * 1.0;
  Tensor c = b * b;  // saves b
  {
    NoGradGuard guard;
    b.mul_(2.0);
  }
  expect_error<AutogradError>([&] { c.sum().backward(); }, {"modified by an in-place operation"});
}

TEST(Engine, InPlaceOnALeafThatRequiresGradIsAnError) {
  Tensor x = leaf({1});
  expect_error<AutogradError>([&] { x.add_(1.0); }, {"add_"});
  expect_error<AutogradError>([&] { x.zero_(); }, {"fill_"});
  NoGradGuard guard;
  x.add_(1.0);  // as an optimizer step does
  expect_near(x, {2});
}

TEST(Engine, InPlaceInsideTheGraphRebasesHistory) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 1.0;
  y.mul_(x);       // y = x^2
  y.add_(x, 2.0);  // y = x^2 + 2x
  y.sum().backward();
  expect_near(y, {3, 8});
  expect_near(x.grad(), {4, 6});
}

TEST(Engine, InPlaceOpsOutsideTheGraph) {
  Tensor a = tensor({1.0, 2.0});
  const uint64_t v0 = a.version();
  a.add_(tensor({1.0, 1.0})).mul_(3.0).sub_(tensor({1.0, 1.0})).div_(tensor({5.0, 2.0}));
  expect_near(a, {1, 4});
  EXPECT_GT(a.version(), v0);
  a.fill_(7.0);
  expect_near(a, {7, 7});
  a.copy_(tensor({4.0, 5.0}));
  expect_near(a, {4, 5});
  a.zero_();
  expect_near(a, {0, 0});
}

TEST(Engine, AnomalyModeNamesTheForwardOpThatMadeANaN) {
  DetectAnomalyGuard anomaly;
  Tensor x = leaf({-1});
  expect_error<AnomalyError>([&] { log(x); }, {"log"});
}

TEST(Engine, AnomalyModeNamesTheBackwardOpThatMadeAnInf) {
  Tensor x = leaf({0});
  Tensor y = sqrt(x).sum();  // fine forward; d sqrt at 0 is inf
  DetectAnomalyGuard anomaly;
  expect_error<AnomalyError>([&] { y.backward(); }, {"sqrt"});
}

TEST(Engine, WithoutAnomalyModeNaNsPassSilently) {
  Tensor x = leaf({-1});
  EXPECT_TRUE(std::isnan(log(x).item()));
}

TEST(Engine, GraphIsFreedWithItsLastOutput) {
  Tensor x = leaf({1, 2});
  std::weak_ptr<Node> node;
  {
    Tensor y = exp(x * 2.0);  // exp saves its own output: no cycle allowed
    node = y.grad_fn();
    EXPECT_FALSE(node.expired());
  }
  EXPECT_TRUE(node.expired());
}

TEST(Engine, CreateGraphLeafGradDoesNotLeakTheLeaf) {
  std::weak_ptr<TensorImpl> impl;
  std::weak_ptr<Node> node;
  {
    Tensor x = leaf({1, 2});
    impl = x.impl();
    (x * x).sum().backward({}, {}, true);  // x.grad = 2x holds a graph that refers to x
    node = x.grad().grad_fn();
    EXPECT_FALSE(node.expired());
  }
  EXPECT_TRUE(impl.expired());
  EXPECT_TRUE(node.expired());
}

TEST(Engine, LongChainsNeitherOverflowBackwardNorDestruction) {
  Tensor x = leaf({1});
  Tensor y = x;
  for (int i = 0; i < 200000; ++i) y = y * 1.0;
  y.sum().backward();
  expect_near(x.grad(), {1});
  y = Tensor();  // frees 200k nodes without recursion
}

TEST(Engine, GraphsOnDifferentThreadsAreIndependent) {
  auto work = [](double scale, bool no_grad, double* out, bool* recorded) {
    Tensor x = tensor({scale}).requires_grad_();
    std::optional<NoGradGuard> guard;
    if (no_grad) guard.emplace();
    Tensor y = x * x;
    *recorded = y.requires_grad();
    for (int i = 0; i < 2000; ++i) y = y * 1.0;
    if (!no_grad) {
      y.sum().backward();
      *out = x.grad().item();
    }
  };
  double g1 = 0, g2 = 0;
  bool r1 = false, r2 = true, r3 = false;
  std::thread a(work, 3.0, false, &g1, &r1);
  std::thread b(work, 5.0, true, &g2, &r2);
  std::thread c(work, 4.0, false, &g2, &r3);
  a.join();
  b.join();
  c.join();
  EXPECT_DOUBLE_EQ(g1, 6.0);
  EXPECT_DOUBLE_EQ(g2, 8.0);
  EXPECT_TRUE(r1);
  EXPECT_FALSE(r2);
  EXPECT_TRUE(r3);
}

// ---- custom ops and the checkers -----------------------------------------------------------------

Tensor cube(const Tensor& x) {
  return custom_op(
      "cube", {x}, [](const std::vector<Tensor>& in) { return in[0] * in[0] * in[0]; },
      [](const Backward& c) -> Grads { return {c.grad * 3.0 * square(c.input(0))}; });
}

TEST(CustomOp, ForwardBackwardAndSecondOrder) {
  Tensor x = leaf({2});
  Tensor y = cube(x);
  EXPECT_EQ(y.grad_fn()->name(), "cube");
  std::vector<Tensor> g = grad({y.sum()}, {x}, {}, {}, true);
  expect_near(g[0], {12});
  expect_near(grad({g[0].sum()}, {x})[0], {12});
}

TEST(CustomOp, PassesGradcheckAndGradgradcheck) {
  Tensor x = tensor({0.5, -1.5, 2.0}).requires_grad_();
  auto fn = [](const std::vector<Tensor>& in) { return cube(in[0]); };
  EXPECT_TRUE(gradcheck(fn, {x}).ok);
  EXPECT_TRUE(gradgradcheck(fn, {x}).ok);
}

TEST(Gradcheck, CatchesAWrongFirstDerivative) {
  auto wrong = [](const std::vector<Tensor>& in) {
    return custom_op(
        "wrong", in, [](const std::vector<Tensor>& v) { return v[0] * v[0]; },
        [](const Backward& c) -> Grads { return {c.grad * 3.0 * c.input(0)}; });
  };
  GradcheckResult r = gradcheck(wrong, {tensor({1.0, 2.0}).requires_grad_()});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("analytical"), std::string::npos);
}

TEST(Gradcheck, CatchesAWrongSecondDerivative) {
  // The first derivative is right, but written with a detached input, so it has no second order.
  auto flat = [](const std::vector<Tensor>& in) {
    return custom_op(
        "flat", in, [](const std::vector<Tensor>& v) { return v[0] * v[0]; },
        [](const Backward& c) -> Grads { return {c.grad * 2.0 * c.input(0).detach()}; });
  };
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  EXPECT_TRUE(gradcheck(flat, {x}).ok);
  EXPECT_FALSE(gradgradcheck(flat, {x}).ok);
}

TEST(Printing, ShowsValuesShapeAndDtype) {
  const std::string s = tensor({{1.0f, 2.5f}, {3.0f, 4.0f}}).to_string();
  EXPECT_NE(s.find("2.5"), std::string::npos) << s;
  EXPECT_NE(s.find("shape=[2, 2]"), std::string::npos) << s;
  EXPECT_NE(s.find("float32"), std::string::npos) << s;
  EXPECT_NE(leaf({1}).to_string().find("requires_grad"), std::string::npos);
}

TEST(Item, OnlyForOneElement) {
  EXPECT_DOUBLE_EQ(tensor({4.5}).item(), 4.5);
  expect_error<ValueError>([] { tensor({1.0, 2.0}).item(); }, {"[2]"});
}

}  // namespace
}  // namespace xgrad
