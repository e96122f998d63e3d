// The CUDA device context: stream, library handles, pool allocation, copies both ways.
#include <gtest/gtest.h>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../core/storage.h"
#include "../support/parity.h"

namespace tg {
namespace {

TEST(CudaContext, StreamAndHandlesExist) {
  TG_REQUIRE_CUDA();
  DeviceContext& ctx = context(Device::cuda());
  EXPECT_NE(ctx.stream(), nullptr);
  EXPECT_NE(ctx.cublas_handle(), nullptr);
  EXPECT_EQ(ctx.cublas_handle(), ctx.cublas_handle()) << "created once";
  EXPECT_NE(ctx.cudnn_handle(), nullptr);
  EXPECT_EQ(&ctx, &context(Device::cuda(0)));
  EXPECT_FALSE(ctx.allow_tf32());
  EXPECT_NO_THROW(ctx.synchronize());
}

TEST(CudaContext, AllocationsAndRoundTrips) {
  TG_REQUIRE_CUDA();
  EXPECT_EQ(Storage(0, Device::cuda()).data(), nullptr);
  const Tensor host = arange(0, 100000, 1, DType::Float64);
  const Tensor dev = host.to(Device::cuda());
  EXPECT_TRUE(dev.device().is_cuda());
  EXPECT_TRUE(testing::tensors_bitwise_equal(dev.to(Device::cpu()), host));
  // Many short-lived tensors: the pool recycles their memory.
  for (int i = 0; i < 200; ++i) {
    Tensor t = zeros({1 << 16}, Device::cuda());
    t.fill_(i);
  }
  EXPECT_EQ(full({3}, 4.5, Device::cuda()).select(0, 2).item<float>(), 4.5f);
}

TEST(CudaContext, HugeAllocationFailsCleanly) {
  TG_REQUIRE_CUDA();
  // Refused before the allocator is asked (so sanitizers see no failed API call), with the
  // device's size in the message.
  try {
    empty({int64_t{1} << 50}, Device::cuda());
    ADD_FAILURE() << "a 4 PiB allocation succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the device has"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(zeros({16}, Device::cuda()).to(Device::cpu()));
}

TEST(CudaContext, LibraryHandlesCanBeReleasedAndMadeAgain) {
  TG_REQUIRE_CUDA();
  DeviceContext& ctx = context(Device::cuda());
  ASSERT_NE(ctx.cublas_handle(), nullptr);
  ctx.release_library_handles();  // what the exit handler does (Note [context lifetime])
  const Tensor a = ones({4, 3}, Device::cuda()), b = ones({3, 2}, Device::cuda());
  EXPECT_EQ(sum(matmul(a, b)).item<float>(), 24.0f) << "handles are made again on demand";
}

TEST(CudaContext, PrintingShowsTheDevice) {
  TG_REQUIRE_CUDA();
  EXPECT_EQ(arange(3.0, Device::cuda()).str(),
            "tensor([0., 1., 2.], dtype=float32, device=cuda:0)");
}

}  // namespace
}  // namespace tg
