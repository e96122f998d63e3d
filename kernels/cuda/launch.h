// What every CUDA file shares: the launch check that follows every <<<>>> (on
// TG_CUDA_CHECK, foundation/cuda_check.h), the grid-stride loop (its grid size, and
// grid_stride(n) to walk it), and scratch buffers (ScratchBuffer).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "../../foundation/cuda_check.h"
#include "../common.h"

// After every kernel launch: reports a bad configuration at once (no synchronisation).
#define TG_CUDA_CHECK_LAUNCH() TG_CUDA_CHECK(cudaGetLastError())

namespace tg::kernels::cuda {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items: enough to fill the GPU many times over,
// never more than the items need.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  const int64_t wanted = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<int64_t>(wanted, 1, 1 << 16));
}

#if defined(__CUDACC__)  // device code: only for .cu files
// for (const int64_t i : grid_stride(n)) { ... } visits this thread's share of [0, n):
// i = blockIdx.x·blockDim.x + threadIdx.x, then steps of gridDim.x·blockDim.x. I is the
// index type (int64_t, or 32-bit where the caller knows n < 2^31).
template <typename I>
class GridStride {
 public:
  struct Iterator {
    I index, step;
    __device__ I operator*() const { return index; }
    __device__ Iterator& operator++() {
      index += step;
      return *this;
    }
    __device__ bool operator!=(I end) const { return index < end; }
  };
  __device__ explicit GridStride(I n) : n_(n) {}
  __device__ Iterator begin() const {
    return {static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x),
            static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x)};
  }
  __device__ I end() const { return n_; }

 private:
  I n_;
};

template <typename I>
__device__ GridStride<I> grid_stride(I n) {
  return GridStride<I>(n);
}
#endif

inline cudaStream_t as_stream(void* stream) { return static_cast<cudaStream_t>(stream); }

// Scratch memory for one launch from the caller's allocator (Note [scratch memory],
// kernels/common.h), released when the scope ends (the allocator's frees are
// stream-ordered, so kernels queued before then still see it).
class ScratchBuffer {
 public:
  ScratchBuffer(const ScratchAllocator& allocator, size_t bytes) : allocator_(allocator) {
    TG_ASSERT(allocator.allocate != nullptr && allocator.release != nullptr,
              "a CUDA launcher needs a scratch allocator");
    if (bytes > 0) data_ = allocator.allocate(allocator.context, bytes, &handle_);
    bytes_ = bytes;
  }
  ~ScratchBuffer() {
    if (handle_ != nullptr) allocator_.release(allocator_.context, handle_);
  }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }

 private:
  ScratchAllocator allocator_;
  void* data_ = nullptr;
  void* handle_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace tg::kernels::cuda
