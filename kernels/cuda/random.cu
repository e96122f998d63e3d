// CUDA launcher of the random draws (kernels/random.h); the CPU twin is
// kernels/cpu/random.cpp and both produce the same bits. One thread per Philox block.
#include "../random.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

template <typename T>
__global__ void random_kernel(T* __restrict__ dst, RandomArgs args, int per_block, int64_t blocks) {
  const uint64_t offset = args.offset + (args.offset_base != nullptr ? *args.offset_base : 0);
  for (const int64_t block : grid_stride(blocks)) {
    double values[4];
    random_block_values(args, philox_block(args.seed, offset, block), values);
    const int64_t first = block * per_block;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      if (j < per_block && first + j < args.numel) dst[first + j] = convert_element<T>(values[j]);
    }
  }
}

}  // namespace

void random(const RandomArgs& args, void* stream) {
  if (args.numel == 0) return;
  const int per_block = values_per_block(args.distribution, args.dtype);
  const int64_t blocks = (args.numel + per_block - 1) / per_block;
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    random_kernel<T><<<grid_for(blocks), kThreads, 0, as_stream(stream)>>>(
        static_cast<T*>(args.dst), args, per_block, blocks);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
