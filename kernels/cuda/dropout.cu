// CUDA launcher of dropout (kernels/dropout.h); the CPU twin is kernels/cpu/dropout.cpp.
// One thread per Philox block of 4 elements; the keep test is dropout_keep's, so masks
// match the CPU's bit for bit.
#include "kernels/cuda/launch.h"
#include "kernels/dropout.h"

namespace tg::kernels::cuda {

namespace {
template <typename T>
__global__ void dropout_kernel(const T* __restrict__ in, T* __restrict__ out, DropoutArgs a,
                               int64_t blocks) {
  const T scale = static_cast<T>(a.scale);
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < blocks;
       b += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const Philox4x32 r = philox_block(a.seed, a.offset, static_cast<uint64_t>(b));
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t i = 4 * b + j;
      if (i < a.n) out[i] = dropout_element(r.v[j], in[i], a.threshold, scale);
    }
  }
}
}  // namespace

void dropout(const DropoutArgs& a, void* stream) {
  if (a.n == 0) return;
  const int64_t blocks = (a.n + 3) / 4;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    dropout_kernel<T><<<grid_for(blocks), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(a.in), static_cast<T*>(a.out), a, blocks);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
