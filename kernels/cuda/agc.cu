// CUDA launcher of unit-wise adaptive gradient clipping (kernels/agc.h); the CPU twin is
// kernels/cpu/agc.cpp. One block per unit (grid-stride over units): its threads sum the
// squares of the unit's weights and gradients, in float64, by a fixed tree (block_sum),
// then scale the unit's gradients. No atomics: reruns repeat.
#include "../agc.h"
#include "block_sum.cuh"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kUnitThreads = 256;

template <typename T>
__global__ void unit_clip_kernel(UnitClipArgs a) {
  const T* w = static_cast<const T*>(a.params);
  T* g = static_cast<T*>(a.grads);
  for (int64_t u = blockIdx.x; u < a.units; u += gridDim.x) {
    const int64_t begin = a.unit_starts[u], end = a.unit_starts[u + 1];
    double ws = 0, gs = 0;
    for (int64_t i = begin + threadIdx.x; i < end; i += kUnitThreads) {
      ws += static_cast<double>(w[i]) * w[i];
      gs += static_cast<double>(g[i]) * g[i];
    }
    ws = block_sum<kUnitThreads>(ws);
    gs = block_sum<kUnitThreads>(gs);
    const double factor = unit_clip_factor(ws, gs, a.lambda, a.eps);
    if (factor == 1.0) continue;  // the same for every thread of the block
    for (int64_t i = begin + threadIdx.x; i < end; i += kUnitThreads)
      g[i] = static_cast<T>(g[i] * factor);
  }
}

}  // namespace

void unit_clip(const UnitClipArgs& a, void* stream) {
  if (a.units == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(a.units, 1 << 16));
  if (a.dtype == DType::Float32) {
    unit_clip_kernel<float><<<blocks, kUnitThreads, 0, as_stream(stream)>>>(a);
  } else {
    TG_ASSERT(a.dtype == DType::Float64, "unit_clip on ", dtype_name(a.dtype));
    unit_clip_kernel<double><<<blocks, kUnitThreads, 0, as_stream(stream)>>>(a);
  }
  TG_CUDA_CHECK_LAUNCH();
}

}  // namespace tg::kernels::cuda
