// Storage allocation: 64-byte aligned host memory (large blocks kept for reuse: Note [host
// block cache] in host_cache.cpp; no huge pages: Note [huge pages for large tensors]), or the
// CUDA stream-ordered pool; with guard bytes on both sides when the device context asks for
// them (tests).
#include "storage.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "../foundation/error.h"
#include "context.h"
#include "cuda_backend.h"
#include "host_cache.h"

namespace tg {

namespace {
// Note [huge pages for large tensors]
// Blocks of 4 MiB and more used to be 2 MiB-aligned and marked MADV_HUGEPAGE, because glibc
// handed out fresh pages for every large block every step and each 4 KiB page faulted. The
// host block cache (Note [host block cache]) keeps those blocks now, so a block faults once,
// when first touched; and on the VMs we measure, first-touching a huge page costs twice its
// 512 small pages (the CNN's first step 230 ms against 106 ms, `mnist_train --model cnn
// --limit 6000` 2.37 against 2.28 s) while the steady step is the same either way (44-46 ms).
// So no huge-page advice: every block is 64-byte aligned.
constexpr size_t kCpuAlignment = 64;
constexpr size_t kGuardBytes = 256;  // keeps the data's alignment
constexpr unsigned char kGuardPattern = 0xA5;

// `total` bytes rounded up to the alignment (aligned_alloc wants a multiple of it); 0 when
// rounding overflows.
size_t host_block_bytes(size_t total) {
  const size_t rounded = (total + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  return rounded >= total ? rounded : 0;
}
}  // namespace

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  DeviceContext& ctx = context(device);  // checks that the device is usable
  if (bytes == 0) return;
  guard_bytes_ = ctx.allocation_guards() ? kGuardBytes : 0;
  const size_t total = bytes + 2 * guard_bytes_;
  TG_CHECK(total >= bytes, "Storage: ", bytes, " bytes is too large");
  if (device.is_cuda()) {
    base_ = cuda_backend::allocate(device.index(), ctx.stream(), total);
  } else {
    const size_t block = host_block_bytes(total);
    TG_CHECK(block != 0, "Storage: ", bytes, " bytes is too large");
    base_ = host_cache::take(block, kCpuAlignment, &block_bytes_);
    TG_CHECK(base_ != nullptr, "out of memory on cpu: could not allocate ", bytes, " bytes");
  }
  data_ = static_cast<char*>(base_) + guard_bytes_;
  if (guard_bytes_ > 0) {
    const std::vector<unsigned char> pattern(guard_bytes_, kGuardPattern);
    for (void* guard : {base_, static_cast<void*>(static_cast<char*>(data_) + bytes_)}) {
      if (device.is_cuda()) {
        cuda_backend::copy_bytes(guard, device, pattern.data(), Device::cpu(), guard_bytes_);
      } else {
        std::memcpy(guard, pattern.data(), guard_bytes_);
      }
    }
  }
}

bool Storage::guards_intact() const {
  if (guard_bytes_ == 0) return true;
  std::vector<unsigned char> seen(guard_bytes_);
  for (const void* guard : {static_cast<const void*>(base_),
                            static_cast<const void*>(static_cast<char*>(data_) + bytes_)}) {
    if (device_.is_cuda()) {
      cuda_backend::copy_bytes(seen.data(), Device::cpu(), guard, device_, guard_bytes_);
    } else {
      std::memcpy(seen.data(), guard, guard_bytes_);
    }
    for (unsigned char b : seen) {
      if (b != kGuardPattern) return false;
    }
  }
  return true;
}

Storage::~Storage() {
  if (base_ == nullptr) return;
  if (device_.is_cuda()) {
    cuda_backend::deallocate(device_.index(), context(device_).stream(), base_);
  } else {
    host_cache::give(base_, block_bytes_, kCpuAlignment);
  }
}

}  // namespace tg
