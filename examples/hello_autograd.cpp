// The smallest xgrad program: build a few tensors, compute a scalar, call backward() and read
// the gradients, then take a gradient of a gradient. Checks its own answers against the closed
// forms, so it doubles as a smoke test (exit status 1 when something is off).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace {

bool close(const xg::Tensor& t, const std::vector<double>& expected) {
  const std::vector<double> values = t.to_vector<double>();
  if (values.size() != expected.size()) return false;
  for (size_t i = 0; i < values.size(); ++i)
    if (std::abs(values[i] - expected[i]) > 1e-4 * (1.0 + std::abs(expected[i]))) return false;
  return true;
}

bool report(const char* what, const xg::Tensor& t, const std::vector<double>& expected) {
  const bool ok = close(t, expected);
  std::cout << what << " = " << t << (ok ? "" : "   <-- WRONG") << "\n";
  return ok;
}

}  // namespace

int main() {
  bool ok = true;

  // 1. y = sum(x * x * w) + sum(tanh(x))    dy/dx = 2 x w + (1 - tanh(x)^2)    dy/dw = x^2
  xg::Tensor x = xg::tensor({1.0f, 2.0f, 3.0f});
  xg::Tensor w = xg::tensor({0.5f, -1.0f, 2.0f});
  x.requires_grad_();
  w.requires_grad_();
  xg::Tensor y = xg::sum(x * x * w) + xg::sum(xg::tanh(x));
  y.backward();
  const std::vector<double> xs = {1.0, 2.0, 3.0}, ws = {0.5, -1.0, 2.0};
  std::vector<double> dx;
  for (size_t i = 0; i < xs.size(); ++i) dx.push_back(2 * xs[i] * ws[i] + 1 - std::tanh(xs[i]) * std::tanh(xs[i]));
  const double y_expected = 0.5 - 4.0 + 18.0 + std::tanh(1.0) + std::tanh(2.0) + std::tanh(3.0);
  ok &= report("y    ", y, {y_expected});
  ok &= report("dy/dx", x.grad(), dx);
  ok &= report("dy/dw", w.grad(), {1.0, 4.0, 9.0});

  // 2. Broadcasting: a [2, 3] matrix plus a [3] row; the row's gradient sums over the rows.
  xg::Tensor a = xg::tensor({{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
  xg::Tensor b = xg::tensor({10.0f, 20.0f, 30.0f});
  b.requires_grad_();
  xg::Tensor z = xg::mean(xg::square(a + b));  // dz/db_j = sum_i 2 (a_ij + b_j) / 6
  z.backward();
  ok &= report("dz/db", b.grad(), {(2 * 11.0 + 2 * 14.0) / 6, (2 * 22.0 + 2 * 25.0) / 6, (2 * 33.0 + 2 * 36.0) / 6});

  // 3. Second order: f = x^3, f' = 3x^2, f'' = 6x, through grad(..., create_graph = true).
  xg::Tensor s = xg::tensor({2.0});
  s.requires_grad_();
  xg::Tensor f = xg::sum(s * s * s);
  xg::Tensor df = xg::grad({f}, {s}, {}, std::nullopt, /*create_graph=*/true)[0];
  xg::Tensor d2f = xg::grad({xg::sum(df)}, {s})[0];
  ok &= report("f'(2) ", df, {12.0});
  ok &= report("f''(2)", d2f, {12.0});

  std::puts(ok ? "hello_autograd: all values match" : "hello_autograd: MISMATCH");
  return ok ? 0 : 1;
}
