// Storage allocation: 64-byte aligned host memory, or the CUDA stream-ordered pool.
#include "core/storage.h"

#include <cstdlib>
#include <new>

#include "core/context.h"
#include "core/cuda_backend.h"
#include "core/error.h"

namespace tg {

namespace {
constexpr size_t kCpuAlignment = 64;
}

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device.is_cuda()) {
    DeviceContext& ctx = context(device);  // checks that the device is usable
    if (bytes > 0) data_ = cuda_backend::allocate(device.index(), ctx.stream(), bytes);
    return;
  }
  if (bytes == 0) return;
  // aligned_alloc wants a size that is a multiple of the alignment.
  const size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  TG_CHECK(rounded >= bytes, "Storage: ", bytes, " bytes is too large");
  data_ = std::aligned_alloc(kCpuAlignment, rounded);
  TG_CHECK(data_ != nullptr, "out of memory on cpu: could not allocate ", bytes, " bytes");
}

Storage::~Storage() {
  if (data_ == nullptr) return;
  if (device_.is_cuda()) {
    cuda_backend::deallocate(device_.index(), context(device_).stream(), data_);
  } else {
    std::free(data_);
  }
}

}  // namespace tg
