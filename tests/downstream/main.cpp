// Built against an installed xgrad by tests/downstream/run_downstream.cmake: checks that the
// installed headers, the library and the package files are enough for a tiny backward.
#include <cmath>
#include <cstdio>
#include <vector>

#include <xgrad/xgrad.hpp>

int main() {
  // y = sum(x * x) + sum(x)  ->  dy/dx = 2x + 1
  xg::Tensor x = xg::tensor(std::vector<double>{1.0, -2.0, 3.0}, {3});
  x.requires_grad_();
  xg::Tensor y = xg::sum(x * x) + xg::sum(x);
  y.backward();
  const std::vector<double> grad = x.grad().to_vector<double>();
  const std::vector<double> expected = {3.0, -3.0, 7.0};
  bool ok = std::abs(y.item() - 16.0) < 1e-12 && grad.size() == expected.size();
  for (size_t i = 0; ok && i < grad.size(); ++i) ok = std::abs(grad[i] - expected[i]) < 1e-12;
  std::printf("y = %g, dy/dx = [%g, %g, %g]: %s\n", y.item(), grad.size() > 0 ? grad[0] : 0.0,
              grad.size() > 1 ? grad[1] : 0.0, grad.size() > 2 ? grad[2] : 0.0, ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
