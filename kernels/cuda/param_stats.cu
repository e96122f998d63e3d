// CUDA launcher of the per-tensor parameter statistics (kernels/param_stats.h); the CPU
// twin is kernels/cpu/param_stats.cpp. One block per piece (Note [stat pieces]): its threads
// stride the piece, then four fixed-order block sums write the piece's row. One launch per
// flat group; nothing waits.
#include "../param_stats.h"
#include "block_sum.cuh"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kStatThreads = 256;

template <typename T>
__global__ void param_stats_kernel(const T* __restrict__ w, const T* __restrict__ g,
                                   T* __restrict__ w0, const int64_t* __restrict__ pieces,
                                   int64_t piece_count, double* __restrict__ sums) {
  const int64_t p = blockIdx.x;
  if (p >= piece_count) return;
  StatSums s;
  for (int64_t i = pieces[2 * p] + threadIdx.x; i < pieces[2 * p + 1]; i += kStatThreads) {
    const T weight = w[i];
    add_element_stats(g[i], weight, w0[i], s);
    w0[i] = weight;
  }
  const double grad = block_sum<kStatThreads>(s.grad);
  const double weight = block_sum<kStatThreads>(s.weight);
  const double update = block_sum<kStatThreads>(s.update);
  const double zeros = block_sum<kStatThreads>(s.zeros);
  if (threadIdx.x == 0) {
    double* row = sums + p * kStatColumns;
    row[kGradSquares] = grad;
    row[kWeightSquares] = weight;
    row[kUpdateSquares] = update;
    row[kZeroGrads] = zeros;
  }
}

}  // namespace

void param_stats(const ParamStatsArgs& a, void* stream) {
  if (a.piece_count == 0) return;
  // At most ~1024 + one per tensor (Note [stat pieces]), far below the grid limit.
  const unsigned blocks = static_cast<unsigned>(a.piece_count);
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    param_stats_kernel<T><<<blocks, kStatThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(a.params), static_cast<const T*>(a.grads),
        static_cast<T*>(a.previous), a.pieces, a.piece_count, a.sums);
  });
  TG_CUDA_CHECK_LAUNCH();
}

}  // namespace tg::kernels::cuda
