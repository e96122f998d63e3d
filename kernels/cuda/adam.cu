// CUDA launcher of the fused Adam/AdamW update (kernels/adam.h); the CPU twin is
// kernels/cpu/adam.cpp. One launch updates a whole flat parameter group.
#include "../adam.h"
#include "update_loop.cuh"

namespace tg::kernels::cuda {

namespace {
template <typename T, bool kFour>
__global__ void adam_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ m,
                            T* __restrict__ v, T* __restrict__ v_max, int64_t n,
                            AdamStep given_step, StepControl control) {
  T scale;
  if (!step_enabled(control, &scale)) return;
  const AdamStep step = block_step(given_step, control);
  for_each_element<kFour>(n, [&](auto width, int64_t i) {
    constexpr int W = decltype(width)::value;
    T pv[W], gv[W], mv[W], vv[W], xv[W];
    load(p + i, pv), load(g + i, gv), load(m + i, mv), load(v + i, vv);
    if (v_max != nullptr) load(v_max + i, xv);
#pragma unroll
    for (int j = 0; j < W; ++j) {
      adam_element(pv[j], gv[j], mv[j], vv[j], v_max != nullptr ? &xv[j] : nullptr, step, scale);
    }
    store(p + i, pv), store(m + i, mv), store(v + i, vv);
    if (v_max != nullptr) store(v_max + i, xv);
  });
}
}  // namespace

void adam(const AdamArgs& a, void* stream) {
  if (a.n == 0) return;
  const bool four = aligned_for_four({a.params, a.grads, a.m, a.v, a.v_max});
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    auto kernel = four ? adam_kernel<T, true> : adam_kernel<T, false>;
    kernel<<<grid_for_elements(a.n, four), kThreads, 0, as_stream(stream)>>>(
        static_cast<T*>(a.params), static_cast<const T*>(a.grads), static_cast<T*>(a.m),
        static_cast<T*>(a.v), static_cast<T*>(a.v_max), a.n, a.step, a.control);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
