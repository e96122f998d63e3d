// CUDA launcher of the global gradient norm (kernels/grad_norm.h); the CPU twin is
// kernels/cpu/grad_norm.cpp. Stage 1: one block per chunk, each thread summing squares of
// 16-byte vectors (float4 / double2) with four independent accumulators, then a fixed
// warp-shuffle tree and a fixed tree over the warps. Stage 2: one block adds the partials,
// each thread a fixed strided subset, then the same trees. No atomics: reruns repeat.
#include "kernels/cuda/launch.h"
#include "kernels/grad_norm.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kNormThreads = 256;

// Sum over the block, in a fixed order; every thread gets the total.
__device__ double block_sum(double value) {
  __shared__ double warp_totals[kNormThreads / 32];
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_totals[warp] = value;
  __syncthreads();
  double total = 0;
  for (int w = 0; w < kNormThreads / 32; ++w) total += warp_totals[w];
  __syncthreads();  // warp_totals may be rewritten by the next call
  return total;
}

// Squares of one vector of 16 bytes.
__device__ __forceinline__ double squares(float4 v) {
  return static_cast<double>(v.x) * v.x + static_cast<double>(v.y) * v.y + static_cast<double>(v.z) * v.z +
         static_cast<double>(v.w) * v.w;
}
__device__ __forceinline__ double squares(double2 v) { return v.x * v.x + v.y * v.y; }
__device__ __forceinline__ double squares(float v) { return static_cast<double>(v) * v; }
__device__ __forceinline__ double squares(double v) { return v * v; }

template <typename T, typename Vec>
__global__ void norm_partials_kernel(const T* __restrict__ g, int64_t n, int64_t chunk,
                                     double* __restrict__ partials) {
  constexpr int kLanes = sizeof(Vec) / sizeof(T);
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * chunk;
  const int64_t end = begin + chunk < n ? begin + chunk : n;
  double acc[4] = {0, 0, 0, 0};
  // chunk is a multiple of 4096 and g is 16-byte aligned when Vec is wider than T, so a
  // chunk starts on a vector boundary; only the buffer's last chunk may end inside a vector.
  const int64_t vectors = (end - begin) / kLanes;
  const Vec* v = reinterpret_cast<const Vec*>(g + begin);
  int64_t i = threadIdx.x;
  for (; i + 3 * kNormThreads < vectors; i += 4 * kNormThreads) {
#pragma unroll
    for (int k = 0; k < 4; ++k) acc[k] += squares(v[i + k * kNormThreads]);
  }
  for (; i < vectors; i += kNormThreads) acc[0] += squares(v[i]);
  for (int64_t j = begin + vectors * kLanes + threadIdx.x; j < end; j += kNormThreads) {
    acc[1] += static_cast<double>(g[j]) * g[j];
  }
  const double total = block_sum((acc[0] + acc[1]) + (acc[2] + acc[3]));
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void clip_finalize_kernel(ClipFinalizeArgs a) {
  double total = 0;
  for (int64_t i = threadIdx.x; i < a.count; i += blockDim.x) total += a.partials[i];
  total = block_sum(total);
  if (threadIdx.x == 0) finish_clip(total, a);
}

}  // namespace

void norm_partials(const NormPartialsArgs& a, void* stream) {
  const int64_t chunks = kernels::norm_partials(a.n);
  if (chunks == 0) return;
  const unsigned blocks = static_cast<unsigned>(chunks);  // at most ~1024 (norm_chunk)
  // Flat gradient buffers are 64-byte aligned; a view into the middle of one may not be.
  const bool aligned = reinterpret_cast<uintptr_t>(a.grads) % 16 == 0;
  auto launch = [&](auto element, auto vector) {
    using T = decltype(element);
    norm_partials_kernel<T, decltype(vector)><<<blocks, kNormThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(a.grads), a.n, norm_chunk(a.n), a.partials);
  };
  if (a.dtype == DType::Float32) {
    aligned ? launch(float{}, float4{}) : launch(float{}, float{});
  } else {
    TG_ASSERT(a.dtype == DType::Float64, "norm_partials on ", dtype_name(a.dtype));
    aligned ? launch(double{}, double2{}) : launch(double{}, double{});
  }
  TG_CUDA_CHECK_LAUNCH();
}

void clip_finalize(const ClipFinalizeArgs& a, void* stream) {
  clip_finalize_kernel<<<1, kNormThreads, 0, as_stream(stream)>>>(a);
  TG_CUDA_CHECK_LAUNCH();
}

}  // namespace tg::kernels::cuda
