// The integer paths of the binary ops, the reductions, index_select and gather on CUDA against the
// CPU (tests/ops/integer_ops_test.cpp has their values), int64 and uint8, on sizes 0, 1, odd and
// large, bit for bit.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../../core/ops.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

// n pseudo-random integers in [0, range), as int64 or uint8.
Tensor integers(int64_t n, int64_t range, DType dtype, uint64_t seed) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  uint64_t state = seed;
  for (int64_t& x : v) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(range));
  }
  return from_vector(v, {n}).to(dtype);
}

TEST(IntegerOpsCuda, EveryIntegerOpMatchesTheCpu) {
  TG_REQUIRE_CUDA();
  for (DType dtype : {DType::Int64, DType::UInt8}) {
    for (int64_t n : {0, 1, 7, 33, 1000, 100003}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " n=" + std::to_string(n));
      const Tensor a = integers(n, 256, dtype, 1);
      const Tensor b = integers(n, 256, dtype, 2);
      const Tensor ga = a.to(Device::cuda()), gb = b.to(Device::cuda());
      using Binary = Tensor (*)(const Tensor&, const Tensor&);
      for (Binary op :
           std::vector<Binary>{add, sub, mul, maximum, minimum, eq, ne, gt, lt, ge, le}) {
        EXPECT_TRUE(tensors_bitwise_equal(op(ga, gb).to(Device::cpu()), op(a, b)));
      }
      // Broadcast along a leading dim: (3, n) against (n,).
      const Tensor rows = integers(3 * n, 256, dtype, 3).reshape({3, n});
      EXPECT_TRUE(
          tensors_bitwise_equal(eq(rows.to(Device::cuda()), gb).to(Device::cpu()), eq(rows, b)));
      // Reductions: int64 sums (uint8 widened), max and min with their indices.
      EXPECT_TRUE(tensors_bitwise_equal(sum(rows.to(Device::cuda()), {1}).to(Device::cpu()),
                                        sum(rows, {1})));
      EXPECT_TRUE(tensors_bitwise_equal(sum(rows.to(Device::cuda()), {0}).to(Device::cpu()),
                                        sum(rows, {0})));
      EXPECT_TRUE(tensors_bitwise_equal(sum(ga).to(Device::cpu()), sum(a)));
      if (n == 0) continue;
      const ValuesAndIndices gm = max(rows.to(Device::cuda()), 1), cm = max(rows, 1);
      EXPECT_TRUE(tensors_bitwise_equal(gm.values.to(Device::cpu()), cm.values));
      EXPECT_TRUE(tensors_bitwise_equal(gm.indices.to(Device::cpu()), cm.indices));
      EXPECT_TRUE(tensors_bitwise_equal(ga.min().to(Device::cpu()), a.min()));
      const Tensor idx = integers(n / 2 + 1, n, DType::Int64, 4);
      EXPECT_TRUE(tensors_bitwise_equal(
          index_select(ga, 0, idx.to(Device::cuda())).to(Device::cpu()), index_select(a, 0, idx)));
      const Tensor col = integers(3, n, DType::Int64, 5).reshape({3, 1});
      EXPECT_TRUE(tensors_bitwise_equal(
          gather(rows.to(Device::cuda()), 1, col.to(Device::cuda())).to(Device::cpu()),
          gather(rows, 1, col)));
    }
  }
}

}  // namespace
}  // namespace tg::testing
