// CUDA launcher of fill and arange (kernels/fill.h); the CPU twin is kernels/cpu/fill.cpp.
#include <cmath>

#include "../fill.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

template <typename T>
__global__ void fill_kernel(T* __restrict__ dst, FillArgs args) {
  for (const int64_t i : grid_stride(args.numel)) {
    dst[i] = fill_element<T>(args, i);
  }
}

}  // namespace

void fill(const FillArgs& args, void* stream) {
  if (args.numel == 0) return;
  // All zeros (zero_grad, zeros()) is all-zero bytes in every dtype: the memset engine,
  // no per-element conversion. -0.0 has its sign bit set and takes the kernel.
  if (args.start == 0 && !std::signbit(args.start) && args.step == 0) {
    TG_CUDA_CHECK(cudaMemsetAsync(args.dst, 0,
                                  static_cast<size_t>(args.numel) * element_size(args.dtype),
                                  as_stream(stream)));
    return;
  }
  visit_storage_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T>
        <<<grid_for(args.numel), kThreads, 0, as_stream(stream)>>>(static_cast<T*>(args.dst), args);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
