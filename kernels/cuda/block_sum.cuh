// A block-wide sum in a fixed order (warp shuffles, then the warps' totals in turn), for
// the deterministic reductions (STYLE 10: no float atomics). Launchers only.
#pragma once

namespace tg::kernels::cuda {

// Every thread of a block of kThreads (a multiple of 32) calls it; every thread gets the
// total. May be called again at once (its shared memory is free when it returns).
template <int kThreads>
__device__ double block_sum(double value) {
  static_assert(kThreads % 32 == 0, "whole warps");
  __shared__ double warp_totals[kThreads / 32];
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_down_sync(0xffffffffu, value, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_totals[warp] = value;
  __syncthreads();
  double total = 0;
  for (int w = 0; w < kThreads / 32; ++w) total += warp_totals[w];
  __syncthreads();  // warp_totals may be rewritten by the next call
  return total;
}

}  // namespace tg::kernels::cuda
