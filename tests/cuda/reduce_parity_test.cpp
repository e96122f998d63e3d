// Row reductions on CUDA against the CPU where the rows are few and long and both cut
// them into chunks (Note [long rows], kernels/reduce.h), and just below and above the
// limits of the cut: sums close, extremes and their indices equal, with ties and NaNs placed
// across chunk boundaries. Outputs and the partials' scratch memory are written inside
// guard-filled allocations, so an out-of-bounds write fails.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/generator.h"
#include "../../core/ops/reduce.h"
#include "../../kernels/reduce.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

using kernels::kReduceChunk;
using kernels::kReduceWideRows;

void expect_same_reductions(const Tensor& cpu) {
  const Tensor gpu = cpu.to(Device::cuda());
  const double tol = cpu.dtype() == DType::Float32 ? 1e-5 : 1e-12;
  const int64_t inner = cpu.size(-1);
  EXPECT_TRUE(tensors_close(sum(gpu, {-1}).to(Device::cpu()), sum(cpu, {-1}), tol * inner, tol));
  EXPECT_TRUE(tensors_close(sum(gpu).to(Device::cpu()), sum(cpu), tol * cpu.numel(), tol));
  for (bool is_max : {true, false}) {
    SCOPED_TRACE(is_max ? "max" : "min");
    const ValuesAndIndices want = is_max ? max(cpu, -1) : min(cpu, -1);
    const ValuesAndIndices got = is_max ? max(gpu, -1) : min(gpu, -1);
    EXPECT_TRUE(tensors_close(got.values.to(Device::cpu()), want.values, 0, 0));
    EXPECT_TRUE(tensors_bitwise_equal(got.indices.to(Device::cpu()), want.indices));
  }
  EXPECT_TRUE(tensors_close(max(gpu).to(Device::cpu()), max(cpu), 0, 0));
}

TEST(ReduceCuda, LongRowsMatchCpu) {
  TG_REQUIRE_CUDA();
  context(Device::cuda()).set_allocation_guards(true);
  Generator gen(11);
  const std::vector<Shape> shapes{{1, 2 * kReduceChunk - 1},
                                  {1, 2 * kReduceChunk},
                                  {2, 2 * kReduceChunk + 1},
                                  {kReduceWideRows - 1, 20000},
                                  {kReduceWideRows, 20000},
                                  {3, 100003},
                                  {1, 3000001}};
  for (const Shape& shape : shapes) {
    if (shape_numel(shape) > parity_element_limit()) continue;
    for (DType dtype : {DType::Float32, DType::Float64}) {
      SCOPED_TRACE(::testing::PrintToString(shape) + " " + dtype_name(dtype));
      expect_same_reductions(randn(shape, TensorOptions(dtype), &gen));
    }
  }
  context(Device::cuda()).set_allocation_guards(false);
}

TEST(ReduceCuda, TiesAndNaNsAcrossChunksKeepTheFirst) {
  TG_REQUIRE_CUDA();
  const int64_t inner = 4 * kReduceChunk + 3;
  const kernels::ReduceChunks c = kernels::reduce_chunks(2, inner);
  ASSERT_GE(c.count, 3);
  Generator gen(12);
  Tensor x = randn({2, inner}, {}, &gen);
  // Row 0: equal maxima on both sides of a chunk boundary, equal minima in two chunks.
  for (int64_t i : {c.length - 1, c.length, 2 * c.length + 7})
    x.select(0, 0).select(0, i).fill_(9.0);
  for (int64_t i : {c.length + 3, 2 * c.length + 1}) x.select(0, 0).select(0, i).fill_(-9.0);
  // Row 1: NaNs in two chunks (the first NaN wins for max and min).
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int64_t i : {2 * c.length + 1, c.length + 5}) x.select(0, 1).select(0, i).fill_(nan);
  expect_same_reductions(x);
  const ValuesAndIndices got = max(x.to(Device::cuda()), -1);
  const Tensor indices = got.indices.to(Device::cpu());
  EXPECT_EQ(indices.select(0, 0).item<int64_t>(), c.length - 1);
  EXPECT_EQ(indices.select(0, 1).item<int64_t>(), c.length + 5);
}

}  // namespace
}  // namespace tg::testing
