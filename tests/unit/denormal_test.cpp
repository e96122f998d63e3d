// set_flush_denormal (core/denormal.h): on, a product below the smallest normal float and a
// subnormal input both give zero on every thread of a parallel op; off again, the subnormal
// product is back.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../../core/denormal.h"
#include "../../core/factory.h"
#include "../../core/ops.h"

namespace tg {
namespace {

// Whether every element of a float32 tensor is +0 (true) or none is zero (false).
bool all_zero(const Tensor& t) {
  const float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (p[i] != 0.0f) return false;
  }
  return true;
}

TEST(FlushDenormal, OnFlushesOnEveryThreadAndOffRestores) {
  const bool was = flush_denormal();
  if (!set_flush_denormal(true)) GTEST_SKIP() << "this CPU has no flush-to-zero mode";
  EXPECT_TRUE(flush_denormal());
  const int64_t n = int64_t(1) << 20;  // large enough for the op to use every thread
  const Tensor tiny = full({n}, 1e-30, DType::Float32);
  EXPECT_TRUE(all_zero(mul(tiny, 1e-10)));                    // 1e-40 is subnormal
  const Tensor subnormal = full({n}, 1e-40, DType::Float32);  // stored as it is
  EXPECT_TRUE(all_zero(mul(subnormal, 1.0)));                 // read as zero
  ASSERT_TRUE(set_flush_denormal(false));
  EXPECT_FALSE(flush_denormal());
  const Tensor product = mul(tiny, 1e-10);
  const float* p = product.data_ptr<float>();
  for (int64_t i = 0; i < n; i += 4099) {
    ASSERT_EQ(std::fpclassify(p[i]), FP_SUBNORMAL) << i;
  }
  set_flush_denormal(was);
}

}  // namespace
}  // namespace tg
