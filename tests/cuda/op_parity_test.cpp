// Every op on CUDA against the CPU, over every case of the op table (≥ 30 shapes per op),
// in float32 and float64, forward and backward. Outputs are written inside guard-filled
// allocations (DeviceContext::set_allocation_guards) so an out-of-bounds write fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "../../core/autograd.h"
#include "../../core/context.h"
#include "../../core/storage.h"
#include "../ops/op_cases.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

std::vector<std::string> all_ops() {
  std::set<std::string> names;
  for (const OpCase& c : op_cases()) names.insert(c.op);
  return {names.begin(), names.end()};
}

class OpParity : public ::testing::TestWithParam<std::string> {};

TEST_P(OpParity, CudaMatchesCpu) {
  TG_REQUIRE_CUDA();
  DeviceContext& ctx = context(Device::cuda());
  ctx.set_allocation_guards(true);
  for (const OpCase& c : op_cases()) {
    if (c.op != GetParam()) continue;
    int64_t largest = 0;
    for (const InputSpec& in : c.inputs) largest = std::max(largest, shape_numel(in.shape));
    if (largest > parity_element_limit()) continue;
    for (DType dtype : {DType::Float32, DType::Float64}) {
      SCOPED_TRACE(c.op + " " + c.variant + " " + dtype_name(dtype));
      const double tol = dtype == DType::Float32 ? 1e-4 : 1e-10;
      const bool grads = c.differentiable;
      const std::vector<Tensor> cpu_in = make_inputs(c, dtype, Device::cpu(), grads);
      const std::vector<Tensor> gpu_in = make_inputs(c, dtype, Device::cuda(), grads);
      const Tensor cpu_out = c.fn(cpu_in);
      const Tensor gpu_out = c.fn(gpu_in);
      ASSERT_TRUE(tensors_close(gpu_out, cpu_out, tol, tol));
      EXPECT_TRUE(gpu_out.storage()->guards_intact()) << "write outside the output";
      if (!grads || !cpu_out.requires_grad() || cpu_out.numel() == 0) continue;
      Generator g(7);
      const Tensor upstream = randn(cpu_out.shape(), dtype, &g);
      cpu_out.backward(upstream);
      gpu_out.backward(upstream.to(Device::cuda()));
      for (size_t i = 0; i < cpu_in.size(); ++i) {
        if (!cpu_in[i].requires_grad()) continue;
        ASSERT_EQ(cpu_in[i].grad().defined(), gpu_in[i].grad().defined()) << "input " << i;
        if (!cpu_in[i].grad().defined()) continue;
        EXPECT_TRUE(tensors_close(gpu_in[i].grad(), cpu_in[i].grad(), tol * 10, tol * 10))
            << "grad of input " << i;
        EXPECT_TRUE(gpu_in[i].grad().storage()->guards_intact()) << "write outside grad " << i;
      }
    }
  }
  ctx.set_allocation_guards(false);
}

INSTANTIATE_TEST_SUITE_P(Ops, OpParity, ::testing::ValuesIn(all_ops()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tg::testing
