// Random crop + flip on CUDA against the CPU (kernels/augment.h): the same state gives
// the same batch bit for bit, on sizes 0, 1, odd and large.
#include <gtest/gtest.h>

#include "../../core/factory.h"
#include "../../core/ops/augment.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

TEST(AugmentCuda, SameBatchAsTheCpu) {
  TG_REQUIRE_CUDA();
  Generator g(2);
  for (const Shape& shape : std::vector<Shape>{
           {0, 1, 28, 28}, {1, 1, 1, 1}, {3, 2, 5, 7}, {128, 1, 28, 28}, {1000, 3, 32, 32}}) {
    for (int64_t pad : {0, 2, 4}) {
      for (DType dtype : {DType::Float32, DType::Float64}) {
        SCOPED_TRACE(to_string(shape) + " pad " + std::to_string(pad));
        const Tensor x = randn(shape, dtype, &g);
        const RandomState s{42, 5};
        EXPECT_TRUE(tensors_bitwise_equal(
            random_crop_flip(x.to(Device::cuda()), pad, true, s).to(Device::cpu()),
            random_crop_flip(x, pad, true, s)));
      }
    }
  }
}

}  // namespace
}  // namespace tg::testing
