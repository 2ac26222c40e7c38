// Runs gradcheck and gradgradcheck (float64, central differences) on every case of the gradient
// table (tests/support/grad_cases.hpp); cases are registered by the per-area test files.
#include <gtest/gtest.h>

#include "support/grad_cases.hpp"

namespace xgrad::testing {
namespace {

class GradTable : public ::testing::TestWithParam<GradCase> {};

TEST_P(GradTable, FirstOrderMatchesFiniteDifferences) {
  const GradCase& c = GetParam();
  const Inputs inputs = make_inputs(c, 42);
  const GradcheckResult r = gradcheck(c.fn, inputs, {.eps = 1e-6, .atol = c.atol, .rtol = c.rtol});
  EXPECT_TRUE(r.ok) << c.op << ": " << r.message;
}

TEST_P(GradTable, SecondOrderMatchesFiniteDifferences) {
  const GradCase& c = GetParam();
  if (!c.second_order) GTEST_SKIP() << c.op << " has no second derivative where sampled";
  const Inputs inputs = make_inputs(c, 43);
  const GradcheckResult r = gradgradcheck(c.fn, inputs, {.eps = 1e-6, .atol = c.atol, .rtol = c.rtol});
  EXPECT_TRUE(r.ok) << c.op << ": " << r.message;
}

INSTANTIATE_TEST_SUITE_P(Ops, GradTable, ::testing::ValuesIn(grad_cases()),
                         [](const ::testing::TestParamInfo<GradCase>& param) { return param.param.name; });

}  // namespace
}  // namespace xgrad::testing
