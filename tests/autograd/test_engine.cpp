// The backward engine: accumulation, retain_graph, the functional grad(), higher order, modes,
// hooks, in-place detection, anomaly mode, memory (no cycles, no recursion) and threads.
#include <gtest/gtest.h>

#include <thread>

#include "xgrad/xgrad.hpp"

namespace xgrad {
namespace {

Tensor vec(std::initializer_list<double> v) { return tensor(v).requires_grad_(); }

void expect_values(const Tensor& t, std::vector<double> expected, double tol = 1e-12) {
  ASSERT_TRUE(t.defined());
  const std::vector<double> got = t.to_vector<double>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "at " << i;
}

template <typename E, typename F> void expect_error(F&& f, const std::string& fragment) {
  try {
    f();
    FAIL() << "expected an exception containing '" << fragment << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Engine, ScalarBackwardGivesTheDerivative) {
  Tensor x = vec({1, -2, 3});
  (x * x).sum().backward();
  expect_values(x.grad(), {2, -4, 6});
}

TEST(Engine, ExplicitGradientForANonScalarOutput) {
  Tensor x = vec({1, 2});
  Tensor y = x * 3.0;
  y.backward(tensor({10.0, 100.0}));
  expect_values(x.grad(), {30, 300});
}

TEST(Engine, NonScalarWithoutGradientIsAnError) {
  Tensor x = vec({1, 2});
  expect_error<AutogradError>([&] { (x * 2.0).backward(); }, "one-element");
}

TEST(Engine, GradientShapeMustMatchTheOutput) {
  Tensor x = vec({1, 2});
  expect_error<ShapeError>([&] { (x * 2.0).backward(tensor({1.0, 2.0, 3.0})); }, "[3]");
}

TEST(Engine, OutputWithoutGraphIsAnError) {
  Tensor x = tensor({1.0, 2.0});
  expect_error<AutogradError>([&] { x.sum().backward(); }, "does not require grad");
}

TEST(Engine, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = vec({1, 2});
  Tensor y = (x * x).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  expect_values(x.grad(), {4, 8});
}

TEST(Engine, SecondBackwardThroughAFreedGraphNamesTheOp) {
  Tensor x = vec({1, 2});
  Tensor y = (x * x).sum();
  y.backward();
  expect_error<AutogradError>([&] { y.backward(); }, "second time");
}

TEST(Engine, ADiamondSumsBothPaths) {
  Tensor x = vec({2});
  Tensor a = x * 3.0;
  Tensor y = a * a + a;  // y = 9x^2 + 3x, dy/dx = 18x + 3
  y.sum().backward();
  expect_values(x.grad(), {39});
}

TEST(Engine, FunctionalGradLeavesDotGradAlone) {
  Tensor x = vec({1, 2});
  Tensor w = vec({3, 4});
  Tensor y = (x * w).sum();
  std::vector<Tensor> g = grad({y}, {x, w});
  expect_values(g[0], {3, 4});
  expect_values(g[1], {1, 2});
  EXPECT_FALSE(x.grad().defined());
}

TEST(Engine, GradOfANonLeafInput) {
  Tensor x = vec({1, 2});
  Tensor h = x * 2.0;
  Tensor y = (h * h).sum();
  expect_values(grad({y}, {h})[0], {4, 8});
}

TEST(Engine, UnusedInputsAreAnErrorUnlessAllowed) {
  Tensor x = vec({1});
  Tensor z = vec({1});
  Tensor y = (x * 2.0).sum();
  expect_error<ValueError>([&] { grad({y}, {x, z}, {}, true); }, "input 1");
  std::vector<Tensor> g = grad({y}, {x, z}, {}, true, false, /*allow_unused=*/true);
  expect_values(g[0], {2});
  EXPECT_FALSE(g[1].defined());
}

TEST(Engine, GradOnlyRunsTheNodesItNeeds) {
  int calls = 0;
  Tensor x = vec({1});
  Tensor z = vec({1});
  Tensor side = custom_op("counted", {z}, [](const std::vector<Tensor>& in) { return in[0] * 1.0; },
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
  Tensor x = vec({2, -1});
  Tensor y = (x * x * x).sum();  // dy = 3x^2, d2y = 6x
  std::vector<Tensor> g = grad({y}, {x}, {}, {}, /*create_graph=*/true);
  expect_values(g[0], {12, 3});
  EXPECT_TRUE(g[0].requires_grad());
  std::vector<Tensor> h = grad({g[0].sum()}, {x});
  expect_values(h[0], {12, -6});
}

TEST(Engine, HessianVectorProduct) {
  // f = sum(x^2 * y): H_xx = 2y, H_xy = 2x. Hv for v = (vx, vy) on x: 2y*vx + 2x*vy.
  Tensor x = vec({1, 2});
  Tensor y = vec({3, 4});
  Tensor f = (x * x * y).sum();
  std::vector<Tensor> g = grad({f}, {x, y}, {}, {}, true);
  Tensor vx = tensor({1.0, 1.0});
  Tensor vy = tensor({0.5, -1.0});
  Tensor dot = (g[0] * vx).sum() + (g[1] * vy).sum();
  std::vector<Tensor> hv = grad({dot}, {x, y});
  expect_values(hv[0], {2 * 3 * 1 + 2 * 1 * 0.5, 2 * 4 * 1 + 2 * 2 * -1.0});
  expect_values(hv[1], {2 * 1 * 1, 2 * 2 * 1});
}

TEST(Engine, GradientPenaltyBackpropagatesIntoLeafGrad) {
  // f = sum(w * x^2); penalty = |df/dx|^2 = sum(4 w^2 x^2); d penalty / dw = 8 w x^2.
  Tensor x = vec({1, 2});
  Tensor w = vec({3, -1});
  Tensor f = (w * x * x).sum();
  Tensor gx = grad({f}, {x}, {}, {}, true)[0];
  (gx * gx).sum().backward();
  expect_values(w.grad(), {8 * 3 * 1, 8 * -1 * 4});
  expect_values(x.grad(), {8 * 9 * 1, 8 * 1 * 2});
}

TEST(Engine, BackwardWithCreateGraphMakesDifferentiableLeafGrads) {
  Tensor x = vec({3});
  (x * x * x).sum().backward({}, {}, /*create_graph=*/true);  // retain_graph follows create_graph
  Tensor g = x.grad();  // 3x^2 = 27
  expect_values(g, {27});
  EXPECT_TRUE(g.requires_grad());
  std::vector<Tensor> h = grad({g.sum()}, {x});
  expect_values(h[0], {18});
}

TEST(Engine, NoGradGuardRecordsNothing) {
  Tensor x = vec({1});
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
  Tensor x = vec({1, 2});
  Tensor y = x * 2.0;
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.array().storage(), y.array().storage());
  Tensor z = (d * x).sum();
  z.backward();
  expect_values(x.grad(), {2, 4});
}

TEST(Engine, LeafAndNonLeaf) {
  Tensor x = vec({1});
  Tensor y = x * 2.0;
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_EQ(y.grad_fn()->name(), "mul");
  EXPECT_TRUE(tensor({1.0}).is_leaf());
}

TEST(Engine, OnlyFloatingTensorsRequireGrad) {
  Tensor i = tensor({1, 2});
  expect_error<DTypeError>([&] { i.requires_grad_(); }, "int64");
}

TEST(Engine, RetainGradKeepsANonLeafGradient) {
  Tensor x = vec({1, 2});
  Tensor h = x * 3.0;
  h.retain_grad();
  Tensor y = (h * h).sum();
  y.backward();
  expect_values(h.grad(), {6, 12});
  Tensor k = x * 3.0;
  (k * k).sum().backward();
  EXPECT_FALSE(k.grad().defined());
}

TEST(Engine, HooksSeeAndReplaceGradients) {
  Tensor x = vec({1, 2});
  Tensor seen;
  const int64_t id = x.register_hook([&seen](const Tensor& g) {
    seen = g;
    return g * 10.0;
  });
  Tensor h = x * 2.0;
  h.register_hook([](const Tensor& g) { return g + 1.0; });
  h.sum().backward();  // dh = 1 -> hook 2 -> dx = 2*2 = 4 -> hook x10
  expect_values(seen, {4, 4});
  expect_values(x.grad(), {40, 40});
  x.remove_hook(id);
  x.set_grad(Tensor());
  (x * 1.0).sum().backward();
  expect_values(x.grad(), {1, 1});
}

TEST(Engine, InPlaceChangeOfASavedValueIsCaught) {
  Tensor x = vec({1, 2});
  Tensor y = exp(x);  // saves its output
  {
    NoGradGuard guard;
    y.add_(1.0);
  }
  expect_error<AutogradError>([&] { y.sum().backward(); }, "exp");
  Tensor a = vec({1, 2});
  Tensor b = a * 1.0;
  Tensor c = b * b;  // saves b
  {
    NoGradGuard guard;
    b.mul_(2.0);
  }
  expect_error<AutogradError>([&] { c.sum().backward(); }, "modified by an in-place operation");
}

TEST(Engine, InPlaceOnALeafThatRequiresGradIsAnError) {
  Tensor x = vec({1});
  expect_error<AutogradError>([&] { x.add_(1.0); }, "add_");
  expect_error<AutogradError>([&] { x.zero_(); }, "fill_");
  NoGradGuard guard;
  x.add_(1.0);  // as an optimizer step does
  expect_values(x, {2});
}

TEST(Engine, InPlaceInsideTheGraphRebasesHistory) {
  Tensor x = vec({1, 2});
  Tensor y = x * 1.0;
  y.mul_(x);  // y = x^2
  y.add_(x, 2.0);  // y = x^2 + 2x
  y.sum().backward();
  expect_values(y, {3, 8});
  expect_values(x.grad(), {4, 6});
}

TEST(Engine, InPlaceOpsOutsideTheGraph) {
  Tensor a = tensor({1.0, 2.0});
  const uint64_t v0 = a.version();
  a.add_(tensor({1.0, 1.0})).mul_(3.0).sub_(tensor({1.0, 1.0})).div_(tensor({5.0, 2.0}));
  expect_values(a, {1, 4});
  EXPECT_GT(a.version(), v0);
  a.fill_(7.0);
  expect_values(a, {7, 7});
  a.copy_(tensor({4.0, 5.0}));
  expect_values(a, {4, 5});
  a.zero_();
  expect_values(a, {0, 0});
}

TEST(Engine, AnomalyModeNamesTheForwardOpThatMadeANaN) {
  DetectAnomalyGuard anomaly;
  Tensor x = vec({-1});
  expect_error<AnomalyError>([&] { log(x); }, "log");
}

TEST(Engine, AnomalyModeNamesTheBackwardOpThatMadeAnInf) {
  Tensor x = vec({0});
  Tensor y = sqrt(x).sum();  // fine forward; d sqrt at 0 is inf
  DetectAnomalyGuard anomaly;
  expect_error<AnomalyError>([&] { y.backward(); }, "sqrt");
}

TEST(Engine, WithoutAnomalyModeNaNsPassSilently) {
  Tensor x = vec({-1});
  EXPECT_TRUE(std::isnan(log(x).item()));
}

TEST(Engine, GraphIsFreedWithItsLastOutput) {
  Tensor x = vec({1, 2});
  std::weak_ptr<Node> node;
  {
    Tensor y = exp(x * 2.0);  // exp saves its own output: no cycle allowed
    node = y.grad_fn();
    EXPECT_FALSE(node.expired());
  }
  EXPECT_TRUE(node.expired());
}

TEST(Engine, CreateGraphLeafGradDoesNotLeakTheLeaf) {
  std::weak_ptr<TensorImpl> leaf;
  std::weak_ptr<Node> node;
  {
    Tensor x = vec({1, 2});
    leaf = x.impl();
    (x * x).sum().backward({}, {}, true);  // x.grad = 2x holds a graph that refers to x
    node = x.grad().grad_fn();
    EXPECT_FALSE(node.expired());
  }
  EXPECT_TRUE(leaf.expired());
  EXPECT_TRUE(node.expired());
}

TEST(Engine, LongChainsNeitherOverflowBackwardNorDestruction) {
  Tensor x = vec({1});
  Tensor y = x;
  for (int i = 0; i < 200000; ++i) y = y * 1.0;
  y.sum().backward();
  expect_values(x.grad(), {1});
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
  return custom_op("cube", {x}, [](const std::vector<Tensor>& in) { return in[0] * in[0] * in[0]; },
                   [](const Backward& c) -> Grads { return {c.grad * 3.0 * square(c.input(0))}; });
}

TEST(CustomOp, ForwardBackwardAndSecondOrder) {
  Tensor x = vec({2});
  Tensor y = cube(x);
  EXPECT_EQ(y.grad_fn()->name(), "cube");
  std::vector<Tensor> g = grad({y.sum()}, {x}, {}, {}, true);
  expect_values(g[0], {12});
  expect_values(grad({g[0].sum()}, {x})[0], {12});
}

TEST(CustomOp, PassesGradcheckAndGradgradcheck) {
  Tensor x = tensor({0.5, -1.5, 2.0}).requires_grad_();
  auto fn = [](const std::vector<Tensor>& in) { return cube(in[0]); };
  EXPECT_TRUE(gradcheck(fn, {x}).ok);
  EXPECT_TRUE(gradgradcheck(fn, {x}).ok);
}

TEST(Gradcheck, CatchesAWrongFirstDerivative) {
  auto wrong = [](const std::vector<Tensor>& in) {
    return custom_op("wrong", in, [](const std::vector<Tensor>& v) { return v[0] * v[0]; },
                     [](const Backward& c) -> Grads { return {c.grad * 3.0 * c.input(0)}; });
  };
  GradcheckResult r = gradcheck(wrong, {tensor({1.0, 2.0}).requires_grad_()});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("analytical"), std::string::npos);
}

TEST(Gradcheck, CatchesAWrongSecondDerivative) {
  // The first derivative is right, but written with a detached input, so it has no second order.
  auto flat = [](const std::vector<Tensor>& in) {
    return custom_op("flat", in, [](const std::vector<Tensor>& v) { return v[0] * v[0]; },
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
  EXPECT_NE(vec({1}).to_string().find("requires_grad"), std::string::npos);
}

TEST(Item, OnlyForOneElement) {
  EXPECT_DOUBLE_EQ(tensor({4.5}).item(), 4.5);
  expect_error<ValueError>([] { tensor({1.0, 2.0}).item(); }, "[2]");
}

}  // namespace
}  // namespace xgrad
