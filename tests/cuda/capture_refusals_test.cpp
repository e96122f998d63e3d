// What must not run inside a CUDA graph capture refuses there with a clear error instead of
// failing inside CUDA or being frozen into every replay (issue 26): the readback ring's
// events, a device-resident loader's batch (host-chosen images) and its augmentation
// (host-given draws). And conv2d's plans: keyed by the handle's generation, so a handle
// released and made again (maybe at the old address) gets plans of its own, and bounded.
#include <gtest/gtest.h>

#include <string>

#include "../../core/context.h"
#include "../../core/cuda_graph.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../core/readback.h"
#include "../../data/dataloader.h"
#include "../../foundation/config.h"
#include "../../kernels/conv2d.h"
#include "../support/parity.h"

namespace tg {
namespace {

using testing::error_of;

TEST(CaptureRefusals, ReadbackLoaderAndAugmentationRefuseInsideACapture) {
  TG_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  const Tensor source = zeros({3}, TensorOptions(DType::Float64).device(gpu));
  Readback readback(source);
  data::LoaderOptions options;
  options.batch_size = 4;
  options.device = gpu;
  options.resident = true;
  options.crop_pad = 1;
  data::DataLoader loader(zeros({8, 6, 6}, DType::UInt8), zeros({8}, DType::Int64), options);
  loader.start_epoch(1);
  const Tensor images = zeros({2, 1, 6, 6}, gpu);
  CudaGraph graph(gpu);
  graph.capture_begin();
  const std::string r = error_of([&] { readback.start(); });
  const std::string l = error_of([&] { loader.batch(0); });
  const std::string a = error_of([&] { random_crop_flip(images, 1, true, RandomState{1, 0}); });
  graph.capture_end();
  EXPECT_NE(r.find("Readback: cannot queue a copy while cuda:0's stream is captured"),
            std::string::npos)
      << r;
  EXPECT_NE(l.find("DataLoader: batch 0 asked for while cuda:0's stream is captured"),
            std::string::npos)
      << l;
  EXPECT_NE(a.find("random_crop_flip: not for CUDA-graph capture"), std::string::npos) << a;
  // Outside the capture all three work.
  readback.start();
  EXPECT_TRUE(readback.wait().has_value());
  EXPECT_EQ(loader.batch(0).x.shape(), (Shape{4, 1, 6, 6}));
}

TEST(Conv2dPlans, AHandleMadeAgainGetsItsOwnPlansAndTheCacheIsBounded) {
  TG_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  Generator g(3);
  const Tensor x = randn({2, 3, 9, 9}, {}, &g), w = randn({4, 3, 3, 3}, {}, &g);
  const Tensor expected = conv2d(x, w);
  DeviceContext& ctx = context(gpu);
  const Tensor first = conv2d(x.to(gpu), w.to(gpu));
  const uint64_t generation = ctx.cudnn_generation();
  ctx.release_library_handles();
  const Tensor second = conv2d(x.to(gpu), w.to(gpu));
  EXPECT_GT(ctx.cudnn_generation(), generation) << "a new handle, a new generation";
  EXPECT_TRUE(testing::tensors_close(first, expected, 1e-5, 1e-5));
  EXPECT_TRUE(testing::tensors_close(second, expected, 1e-5, 1e-5));
#if TG_WITH_CUDA  // the launchers, and so the cache, exist only in a CUDA build
  // Every batch size is a problem of its own; the cache keeps at most its capacity.
  const size_t capacity = kernels::cuda::conv2d_plan_capacity();
  const Tensor wg = w.to(gpu);
  for (int64_t n = 1; n <= static_cast<int64_t>(capacity) + 8; ++n) {
    conv2d(zeros({n, 3, 5, 5}, gpu), wg);
  }
  EXPECT_LE(kernels::cuda::conv2d_plan_count(), capacity);
  EXPECT_TRUE(testing::tensors_close(conv2d(x.to(gpu), wg), expected, 1e-5, 1e-5));
#endif
}

}  // namespace
}  // namespace tg
