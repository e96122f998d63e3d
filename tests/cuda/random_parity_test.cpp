// Random draws on CUDA equal the CPU's bit for bit for the same generator state: every
// distribution and dtype, at sizes around Philox block, warp and thread-block boundaries.
#include <gtest/gtest.h>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../support/parity.h"

namespace tg {
namespace {

const int64_t kSizes[] = {0,    1,     2,     3,     4,      5,       7,      31,   32,
                          33,   127,   128,   129,   1023,   1024,    1025,   4095, 4096,
                          4097, 65535, 65536, 65537, 262147, 1 << 20, 3000017};

enum class Draw { Uniform, Normal, Bernoulli };

Tensor draw(Draw kind, int64_t n, const TensorOptions& options, Generator* g) {
  switch (kind) {
    case Draw::Uniform: return uniform({n}, -1.5, 4.0, options, g);
    case Draw::Normal: return normal({n}, 0.25, 3.0, options, g);
    case Draw::Bernoulli: return bernoulli({n}, 0.3, options, g);
  }
  return Tensor();
}

TEST(RandomCuda, EveryDistributionMatchesCpuBitForBit) {
  TG_REQUIRE_CUDA();
  for (Draw kind : {Draw::Uniform, Draw::Normal, Draw::Bernoulli}) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      for (int64_t n : kSizes) {
        // Advance both generators first so a non-zero offset is covered too.
        Generator cpu_gen(1000 + n), gpu_gen(1000 + n);
        cpu_gen.reserve(3);
        gpu_gen.reserve(3);
        const Tensor on_cpu = draw(kind, n, dtype, &cpu_gen);
        const Tensor on_gpu = draw(kind, n, TensorOptions(dtype).device(Device::cuda()), &gpu_gen);
        ASSERT_TRUE(testing::tensors_bitwise_equal(on_gpu, on_cpu))
            << "distribution " << static_cast<int>(kind) << " " << dtype << " n " << n;
      }
    }
  }
}

TEST(RandomCuda, BernoulliInUint8MatchesCpu) {
  TG_REQUIRE_CUDA();
  for (int64_t n : kSizes) {
    Generator a(n), b(n);
    EXPECT_TRUE(testing::tensors_bitwise_equal(
        bernoulli({n}, 0.9, TensorOptions(DType::UInt8).device(Device::cuda()), &b),
        bernoulli({n}, 0.9, DType::UInt8, &a)))
        << n;
  }
}

TEST(RandomCuda, DefaultGeneratorsAreSeededTogether) {
  TG_REQUIRE_CUDA();
  manual_seed(77);
  const Tensor on_cpu = randn({4099});
  const Tensor on_gpu = randn({4099}, Device::cuda());
  EXPECT_TRUE(testing::tensors_bitwise_equal(on_gpu, on_cpu));
  EXPECT_EQ(context(Device::cuda()).generator().offset(), 1u);
}

}  // namespace
}  // namespace tg
