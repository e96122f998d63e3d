// CUDA launcher of the global gradient norm (kernels/grad_norm.h); the CPU twin is
// kernels/cpu/grad_norm.cpp. Stage 1: norm_partials(n) blocks walk the buffer grid-stride,
// from its end to its start (Note [norm reads backwards]), each thread summing squares of
// 16-byte vectors (float4 / double2) with four independent accumulators, then a fixed
// warp-shuffle tree and a fixed tree over the warps. Stage 2 runs in the last block of the
// last buffer's launch (Note [last block finishes]). No float atomics: reruns repeat.
#include "../grad_norm.h"
#include "block_sum.cuh"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kNormThreads = 256;

// Squares of one vector of 16 bytes.
__device__ __forceinline__ double squares(float4 v) {
  return static_cast<double>(v.x) * v.x + static_cast<double>(v.y) * v.y +
         static_cast<double>(v.z) * v.z + static_cast<double>(v.w) * v.w;
}
__device__ __forceinline__ double squares(double2 v) { return v.x * v.x + v.y * v.y; }
__device__ __forceinline__ double squares(float v) { return static_cast<double>(v) * v; }
__device__ __forceinline__ double squares(double v) { return v * v; }

// Note [norm reads backwards]
// A clipped step reads the gradients twice: here, then in the update that follows, which
// walks its buffers from the start. Reading the gradients here from the end backwards
// leaves their start in the L2 cache (50 MB on an H100) when the update begins, so part
// of its first reads hit the cache. A grid-stride walk with every block advancing
// together keeps the reads as coalesced as a forward walk, and which block sums which
// vector depends on n alone, so the partials repeat bit for bit.
//
// Note [last block finishes]
// Stage 2 needs every partial. Rather than a second launch, each block of the last
// buffer's launch writes its partial, makes it visible device-wide (__threadfence) and
// counts itself in `arrivals` (the CUDA programming guide's threadFenceReduction
// pattern); the block that arrives last has seen every other block's fence, so it reads
// all partials (through L2, __ldcg) in a fixed order, writes norm, scale and skip, and
// resets the counter for the next call (also the next replay of a captured graph).
// Partials of earlier buffers were written by launches that finished before this one.
template <typename T, typename Vec, bool kFinishes>
__global__ void norm_kernel(const T* __restrict__ g, int64_t n, double* partials,
                            ClipFinalizeArgs finish, unsigned long long* arrivals) {
  constexpr int kLanes = sizeof(Vec) / sizeof(T);
  const int64_t vectors = n / kLanes;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kNormThreads;
  // Vec is wider than T only when g is 16-byte aligned.
  const Vec* v = reinterpret_cast<const Vec*>(g);
  double acc[4] = {0, 0, 0, 0};
  int64_t i =
      static_cast<int64_t>(blockIdx.x) * kNormThreads + threadIdx.x;  // counted from the end
  for (; i + 3 * stride < vectors; i += 4 * stride) {
#pragma unroll
    for (int k = 0; k < 4; ++k) acc[k] += squares(v[vectors - 1 - (i + k * stride)]);
  }
  for (; i < vectors; i += stride) acc[0] += squares(v[vectors - 1 - i]);
  if (blockIdx.x == 0) {  // the last n % kLanes elements
    for (int64_t j = vectors * kLanes + threadIdx.x; j < n; j += kNormThreads)
      acc[1] += squares(g[j]);
  }
  const double total = block_sum<kNormThreads>((acc[0] + acc[1]) + (acc[2] + acc[3]));
  // partials is not __restrict__: the finishing block reads it again as finish.partials.
  if (threadIdx.x == 0 && partials != nullptr) partials[blockIdx.x] = total;
  if constexpr (kFinishes) {
    __shared__ bool arrived_last;
    if (threadIdx.x == 0) {
      __threadfence();
      arrived_last = atomicAdd(arrivals, 1ull) == gridDim.x - 1ull;
    }
    __syncthreads();
    if (!arrived_last) return;
    __threadfence();
    double sum = 0;
    for (int64_t p = threadIdx.x; p < finish.count; p += kNormThreads)
      sum += __ldcg(finish.partials + p);
    sum = block_sum<kNormThreads>(sum);
    if (threadIdx.x == 0) {
      finish_clip(sum, finish);
      *arrivals = 0;
    }
  }
}

}  // namespace

void norm_partials(const NormPartialsArgs& a, void* stream) {
  // One block per partial; a last buffer without elements still runs one block to finish.
  const int64_t partials = kernels::norm_partials(a.n);
  if (partials == 0 && !a.finishes) return;
  TG_ASSERT(!a.finishes || a.arrivals != nullptr,
            "norm_partials: finishing without an arrivals counter");
  const unsigned blocks =
      static_cast<unsigned>(partials > 0 ? partials : 1);  // at most ~1024 (norm_chunk)
  double* written = partials > 0 ? a.partials : nullptr;
  // Flat gradient buffers are 64-byte aligned; a view into the middle of one may not be.
  const bool aligned = reinterpret_cast<uintptr_t>(a.grads) % 16 == 0;
  auto launch = [&](auto element, auto vector) {
    using T = decltype(element);
    using Vec = decltype(vector);
    const T* g = static_cast<const T*>(a.grads);
    if (a.finishes) {
      norm_kernel<T, Vec, true>
          <<<blocks, kNormThreads, 0, as_stream(stream)>>>(g, a.n, written, a.finish, a.arrivals);
    } else {
      norm_kernel<T, Vec, false>
          <<<blocks, kNormThreads, 0, as_stream(stream)>>>(g, a.n, written, a.finish, nullptr);
    }
  };
  if (a.dtype == DType::Float32) {
    aligned ? launch(float{}, float4{}) : launch(float{}, float{});
  } else {
    TG_ASSERT(a.dtype == DType::Float64, "norm_partials on ", dtype_name(a.dtype));
    aligned ? launch(double{}, double2{}) : launch(double{}, double{});
  }
  TG_CUDA_CHECK_LAUNCH();
}

}  // namespace tg::kernels::cuda
