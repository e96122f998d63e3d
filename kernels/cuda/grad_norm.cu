// CUDA launcher of the global gradient norm (kernels/grad_norm.h); the CPU twin is
// kernels/cpu/grad_norm.cpp. Stage 1: one block per chunk (grid-stride over chunks), a
// fixed shared-memory tree per block. Stage 2: one block adds the partials, each thread a
// fixed strided subset, then the same tree.
#include "kernels/cuda/launch.h"
#include "kernels/grad_norm.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kNormThreads = 256;

__device__ double block_sum(double value, double* scratch) {
  scratch[threadIdx.x] = value;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) scratch[threadIdx.x] += scratch[threadIdx.x + half];
    __syncthreads();
  }
  const double total = scratch[0];
  __syncthreads();
  return total;
}

template <typename T>
__global__ void norm_partials_kernel(const T* __restrict__ g, int64_t n, double* __restrict__ partials,
                                     int64_t chunks) {
  __shared__ double scratch[kNormThreads];
  for (int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
    const int64_t begin = c * kNormChunk;
    const int64_t end = begin + kNormChunk < n ? begin + kNormChunk : n;
    double total = 0;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const double v = static_cast<double>(g[i]);
      total += v * v;
    }
    total = block_sum(total, scratch);
    if (threadIdx.x == 0) partials[c] = total;
  }
}

__global__ void clip_finalize_kernel(ClipFinalizeArgs a) {
  __shared__ double scratch[kNormThreads];
  double total = 0;
  for (int64_t i = threadIdx.x; i < a.count; i += blockDim.x) total += a.partials[i];
  total = block_sum(total, scratch);
  if (threadIdx.x == 0) finish_clip(total, a);
}

}  // namespace

void norm_partials(const NormPartialsArgs& a, void* stream) {
  const int64_t chunks = kernels::norm_partials(a.n);
  if (chunks == 0) return;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(chunks, 1 << 16));
    norm_partials_kernel<T><<<blocks, kNormThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(a.grads), a.n, a.partials, chunks);
    TG_CUDA_CHECK_LAUNCH();
  });
}

void clip_finalize(const ClipFinalizeArgs& a, void* stream) {
  clip_finalize_kernel<<<1, kNormThreads, 0, as_stream(stream)>>>(a);
  TG_CUDA_CHECK_LAUNCH();
}

}  // namespace tg::kernels::cuda
