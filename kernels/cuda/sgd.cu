// CUDA launcher of the fused SGD update (kernels/sgd.h); the CPU twin is kernels/cpu/sgd.cpp.
#include "../sgd.h"
#include "update_loop.cuh"

namespace tg::kernels::cuda {

namespace {
template <typename T, bool kFour>
__global__ void sgd_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ buffer,
                           int64_t n, SGDStep given_step, StepControl control) {
  T scale;
  if (!step_enabled(control, &scale)) return;
  const SGDStep step = block_step(given_step, control);
  for_each_element<kFour>(n, [&](auto width, int64_t i) {
    constexpr int W = decltype(width)::value;
    T pv[W], gv[W], bv[W];
    load(p + i, pv), load(g + i, gv);
    if (buffer != nullptr) load(buffer + i, bv);
#pragma unroll
    for (int j = 0; j < W; ++j)
      sgd_element(pv[j], gv[j], buffer != nullptr ? &bv[j] : nullptr, step, scale);
    store(p + i, pv);
    if (buffer != nullptr) store(buffer + i, bv);
  });
}
}  // namespace

void sgd(const SGDArgs& a, void* stream) {
  if (a.n == 0) return;
  const bool four = aligned_for_four({a.params, a.grads, a.momentum_buffer});
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    auto kernel = four ? sgd_kernel<T, true> : sgd_kernel<T, false>;
    kernel<<<grid_for_elements(a.n, four), kThreads, 0, as_stream(stream)>>>(
        static_cast<T*>(a.params), static_cast<const T*>(a.grads),
        static_cast<T*>(a.momentum_buffer), a.n, a.step, a.control);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
