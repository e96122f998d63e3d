// Storage: one owned allocation on one device, shared by every tensor viewing it.
//
// CPU memory is 64-byte aligned. CUDA memory comes from the runtime's stream-ordered pool
// (cudaMallocAsync on the device context's stream, with a high release threshold so
// freed blocks are reused instead of returned to the driver). Move-only RAII.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "../foundation/config.h"
#include "device.h"

TG_API_BEGIN

namespace tg {

class Storage {
 public:
  // Allocates `bytes` on `device`; throws tg::Error when the device is unusable or the
  // allocation fails. Zero bytes allocate nothing (data() is null).
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  // Whether the guard bytes around the data still hold their pattern (true when the
  // storage was allocated without guards; see DeviceContext::set_allocation_guards).
  // Reads device memory, so it waits for the device.
  bool guards_intact() const;
  size_t bytes() const { return bytes_; }
  const Device& device() const { return device_; }

  // Bumped by every in-place write through any view of this storage, so autograd can
  // tell that a tensor it saved was modified afterwards.
  int64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* base_ = nullptr;  // the allocation: data_ minus the leading guard
  void* data_ = nullptr;
  size_t bytes_ = 0;
  size_t guard_bytes_ = 0;
  size_t block_bytes_ = 0;  // CPU: base_'s size, which host_cache::take may make larger than asked
  Device device_;
  std::atomic<int64_t> version_{0};
};

}  // namespace tg

TG_API_END
