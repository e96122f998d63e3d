// Device names, parsing, and what a build says about CUDA.
#include <gtest/gtest.h>

#include "../../core/context.h"
#include "../../core/device.h"
#include "../../foundation/error.h"

namespace tg {
namespace {

TEST(Device, ParsesAndPrints) {
  EXPECT_EQ(Device("cpu"), Device::cpu());
  EXPECT_EQ(Device("cuda"), Device::cuda(0));
  EXPECT_EQ(Device("cuda:3"), Device::cuda(3));
  EXPECT_EQ(Device::cuda(3).str(), "cuda:3");
  EXPECT_EQ(Device::cpu().str(), "cpu");
  EXPECT_NE(Device::cuda(0), Device::cuda(1));
  EXPECT_TRUE(Device::cuda(1).is_cuda());
  EXPECT_TRUE(Device().is_cpu());
}

TEST(Device, RejectsMalformedNames) {
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda0", "cuda:-1", "CPU", ""}) {
    EXPECT_THROW(Device{std::string(bad)}, Error) << bad;
  }
  EXPECT_THROW(Device(DeviceType::CUDA, -1), Error);
  EXPECT_THROW(Device(DeviceType::CPU, 1), Error);
}

TEST(Device, CudaIfAvailableAgreesWithDeviceCount) {
  const Device d = Device::cuda_if_available();
  EXPECT_EQ(d.is_cuda(), cuda_device_count() > 0);
  EXPECT_EQ(cuda_is_available(), cuda_device_count() > 0);
  if (!cuda_compiled()) {
    EXPECT_EQ(cuda_device_count(), 0);
  }
}

TEST(Device, CudaDescriptionsNameTheBuildAndRefuseMissingDevices) {
  const std::string versions = cuda_library_versions();
  if (cuda_compiled()) {
    EXPECT_NE(versions.find("cuDNN"), std::string::npos) << versions;
  } else {
    EXPECT_NE(versions.find("not compiled in"), std::string::npos) << versions;
  }
  EXPECT_THROW(cuda_device_description(cuda_device_count()), Error);
}

TEST(Device, CpuContextHasNoStream) {
  DeviceContext& ctx = context(Device::cpu());
  EXPECT_EQ(ctx.stream(), nullptr);
  EXPECT_EQ(&ctx, &context(Device::cpu()));
  EXPECT_THROW(ctx.cublas_handle(), Error);
  EXPECT_NO_THROW(ctx.synchronize());
}

}  // namespace
}  // namespace tg
