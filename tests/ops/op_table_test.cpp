// The op table covers every op the library exports, with enough shapes for parity; and
// the forward passes run on the CPU for every case in both float dtypes.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "../../core/ops/op_support.h"
#include "../support/parity.h"
#include "op_cases.h"

namespace tg::testing {
namespace {

TEST(OpTable, EveryRegisteredOpHasCases) {
  std::map<std::string, int> counts;
  for (const OpCase& c : op_cases()) ++counts[c.op];
  ASSERT_FALSE(ops::registered_ops().empty());
  for (const std::string& name : ops::registered_ops()) {
    EXPECT_GE(counts[name], 30) << "op '" << name << "' has " << counts[name]
                                << " cases in tests/ops/op_cases.cpp; parity wants at least 30";
  }
}

TEST(OpTable, EveryCaseNamesARegisteredOp) {
  std::set<std::string> registered(ops::registered_ops().begin(), ops::registered_ops().end());
  for (const OpCase& c : op_cases()) {
    EXPECT_TRUE(registered.count(c.op))
        << "case '" << c.variant << "' names unknown op '" << c.op << "'";
  }
}

TEST(OpTable, EveryCaseRunsOnTheCpuInBothDtypes) {
  for (const OpCase& c : op_cases()) {
    SCOPED_TRACE(c.op + " " + c.variant);
    const Tensor y32 = c.fn(make_inputs(c, DType::Float32, Device::cpu(), false));
    const Tensor y64 = c.fn(make_inputs(c, DType::Float64, Device::cpu(), false));
    ASSERT_EQ(y32.shape(), y64.shape());
    if (is_floating(y32.dtype())) {
      EXPECT_TRUE(tensors_close(y32, y64, 1e-4, 1e-3));
    }
  }
}

}  // namespace
}  // namespace tg::testing
