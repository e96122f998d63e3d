// Every differentiable op's backward against central finite differences in float64
// (label gradcheck), over the small cases of the op table.
#include <gtest/gtest.h>

#include <set>

#include "../../core/gradcheck.h"
#include "op_cases.h"

namespace tg::testing {
namespace {

std::vector<std::string> differentiable_ops() {
  std::set<std::string> names;
  for (const OpCase& c : op_cases()) {
    if (c.differentiable) names.insert(c.op);
  }
  return {names.begin(), names.end()};
}

class Gradcheck : public ::testing::TestWithParam<std::string> {};

TEST_P(Gradcheck, MatchesFiniteDifferences) {
  int checked = 0;
  for (const OpCase& c : op_cases()) {
    if (c.op != GetParam() || !c.small || !c.differentiable) continue;
    SCOPED_TRACE(c.op + " " + c.variant);
    const std::vector<Tensor> inputs = make_inputs(c, DType::Float64, Device::cpu(), true);
    const GradcheckResult result = gradcheck(c.fn, inputs);
    EXPECT_TRUE(result.ok) << result.message;
    ++checked;
  }
  EXPECT_GE(checked, 2) << "too few small cases to gradcheck " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Ops, Gradcheck, ::testing::ValuesIn(differentiable_ops()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tg::testing
