// CUDA launcher of history-based clipping (kernels/history_clip.h); the CPU twin is
// kernels/cpu/history_clip.cpp. One block: thread 0 records the norm; then every thread
// ranks its share of the recorded norms (ties broken by position, so ranks are a
// permutation) and the two with the percentile's ranks are kept; thread 0 finishes. The
// window is at most 4096 norms: at most 16 Ki comparisons a thread, a few microseconds,
// and the step never waits for the host.
#include "../history_clip.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kHistoryThreads = 256;

__global__ void history_clip_kernel(HistoryClipArgs a) {
  __shared__ int64_t n;
  __shared__ double lo_value, hi_value;
  if (threadIdx.x == 0) {
    n = history_record(a);
    lo_value = hi_value = 0;
  }
  __syncthreads();
  if (n > 0) {
    int64_t lo = 0, hi = 0;
    double fraction = 0;
    percentile_ranks(a.options.percentile, n, &lo, &hi, &fraction);
    for (int64_t i = threadIdx.x; i < n; i += kHistoryThreads) {
      const double v = a.history[i];
      int64_t rank = 0;
      for (int64_t j = 0; j < n; ++j) {
        const double u = a.history[j];
        rank += (u < v || (u == v && j < i)) ? 1 : 0;
      }
      if (rank == lo) lo_value = v;
      if (rank == hi) hi_value = v;
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) history_finish(a, lo_value, hi_value);
}

}  // namespace

void history_clip(const HistoryClipArgs& a, void* stream) {
  history_clip_kernel<<<1, kHistoryThreads, 0, as_stream(stream)>>>(a);
  TG_CUDA_CHECK_LAUNCH();
}

}  // namespace tg::kernels::cuda
