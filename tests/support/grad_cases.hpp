#pragma once
// The gradient-test table. Each test file registers cases for the ops it covers:
//
//   XGRAD_GRAD_CASE(mul_broadcast, "mul", {{3, 4}, {4}},
//                   [](const Inputs& x) { return x[0] * x[1]; });
//   XGRAD_GRAD_CASE(log_positive, "log", {{5}}, [](const Inputs& x) { return log(x[0]); },
//                   Domain::Positive);            // later fields positionally: domain, atol,
//                                                 // rtol, second_order
//
// tests/autograd/test_gradcheck_all.cpp runs gradcheck and gradgradcheck (float64, central
// differences) on every case; test_op_coverage.cpp fails when an op in ops.def has no case.
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "xgrad/xgrad.hpp"

namespace xgrad::testing {

using Inputs = std::vector<Tensor>;

// How random inputs are drawn (float64, fixed seed per case).
enum class Domain {
  Any,           // uniform in (-2, 2)
  Positive,      // uniform in (0.5, 2): log, sqrt, pow with a tensor exponent, ...
  AwayFromZero,  // |x| in (0.3, 2) with random sign: abs, relu, div's denominator, ...
  Unit,          // uniform in (-0.9, 0.9)
};

struct GradCase {
  std::string name;  // unique test name
  std::string op;    // the name in ops.def this case covers
  std::vector<Shape> shapes;
  std::function<Tensor(const Inputs&)> fn;
  Domain domain = Domain::AwayFromZero;
  double atol = 1e-5;
  double rtol = 1e-3;
  bool second_order = true;  // false only for ops whose second derivative is undefined where sampled
};

// Short test output: gtest prints a case by its name.
inline void PrintTo(const GradCase& c, std::ostream* os) { *os << c.name << " (" << c.op << ")"; }

std::vector<GradCase>& grad_cases();
bool register_grad_case(GradCase c);
// Random float64 inputs for a case, requiring grad.
Inputs make_inputs(const GradCase& c, uint64_t seed);

}  // namespace xgrad::testing

#define XGRAD_GRAD_CASE_CAT2(a, b) a##b
#define XGRAD_GRAD_CASE_CAT(a, b) XGRAD_GRAD_CASE_CAT2(a, b)
// XGRAD_GRAD_CASE(name, "op", shapes, fn [, domain, atol, rtol, second_order])
#define XGRAD_GRAD_CASE(case_name, op_name, ...)                                                  \
  [[maybe_unused]] static const bool XGRAD_GRAD_CASE_CAT(grad_case_registered_, case_name) =     \
      ::xgrad::testing::register_grad_case(::xgrad::testing::GradCase{#case_name, op_name, __VA_ARGS__})
