// Every differentiable op (the list in ops.def) must have a gradient-table case, and every case
// must name an op of the list.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "support/grad_cases.hpp"

namespace xgrad::testing {
namespace {

const std::set<std::string>& listed_ops() {
  static const std::set<std::string> ops = {
#define XGRAD_OP(name) #name,
#include "xgrad/autograd/ops.def"
#undef XGRAD_OP
  };
  return ops;
}

TEST(OpCoverage, EveryListedOpHasAGradientCase) {
  std::set<std::string> covered;
  for (const GradCase& c : grad_cases()) covered.insert(c.op);
  for (const std::string& op : listed_ops()) EXPECT_TRUE(covered.count(op)) << "no gradient test case for op " << op;
}

TEST(OpCoverage, EveryCaseNamesAListedOp) {
  for (const GradCase& c : grad_cases())
    EXPECT_TRUE(listed_ops().count(c.op)) << "case " << c.name << " names op " << c.op << ", missing from ops.def";
}

TEST(OpCoverage, TheListIsNotEmpty) { EXPECT_GT(listed_ops().size(), 50u); }

}  // namespace
}  // namespace xgrad::testing
