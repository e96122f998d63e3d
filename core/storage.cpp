// Storage allocation: 64-byte aligned host memory (2 MiB-aligned huge-page candidates from
// 4 MiB: Note [huge pages for large tensors]; large blocks kept for reuse: Note [host block
// cache] in host_cache.cpp), or the CUDA stream-ordered pool; with
// guard bytes on both sides when the device context asks for them (tests).
#include "storage.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "../foundation/error.h"
#include "context.h"
#include "cuda_backend.h"
#include "host_cache.h"

namespace tg {

namespace {
constexpr size_t kCpuAlignment = 64;
// Note [huge pages for large tensors]
// A large block from malloc is fresh mmap'd memory each time (glibc returns large blocks to
// the system on free), so every 4 KiB page of an activation faults once per training step:
// 11% of the CNN's CPU step went to page-fault handling. Blocks of 4 MiB and more are
// aligned to 2 MiB and marked MADV_HUGEPAGE, so the kernel (transparent huge pages in
// "madvise" mode, Debian's default) maps them 2 MiB at a time: 512 times fewer faults. The
// advice is only advice: where huge pages are off, nothing changes.
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kHugeAbove = size_t(4) << 20;
constexpr size_t kGuardBytes = 256;  // keeps the data's alignment
constexpr unsigned char kGuardPattern = 0xA5;

// The host block behind `total` bytes: its alignment, and its size rounded up to a multiple of
// it (aligned_alloc wants one); the size is 0 when rounding overflows.
struct HostBlock {
  size_t bytes;
  size_t alignment;
};
HostBlock host_block(size_t total) {
  const size_t alignment = total >= kHugeAbove ? kHugePage : kCpuAlignment;
  const size_t rounded = (total + alignment - 1) / alignment * alignment;
  return {rounded >= total ? rounded : 0, alignment};
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
    const HostBlock block = host_block(total);
    TG_CHECK(block.bytes != 0, "Storage: ", bytes, " bytes is too large");
    base_ = host_cache::take(block.bytes, block.alignment);
    TG_CHECK(base_ != nullptr, "out of memory on cpu: could not allocate ", bytes, " bytes");
    if (block.alignment == kHugePage) madvise(base_, block.bytes, MADV_HUGEPAGE);  // advice only
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
    const HostBlock block = host_block(bytes_ + 2 * guard_bytes_);
    host_cache::give(base_, block.bytes, block.alignment);
  }
}

}  // namespace tg
