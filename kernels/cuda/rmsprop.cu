// CUDA launcher of the fused RMSProp update (kernels/rmsprop.h); the CPU twin is
// kernels/cpu/rmsprop.cpp.
#include "../rmsprop.h"
#include "update_loop.cuh"

namespace tg::kernels::cuda {

namespace {
template <typename T, bool kFour>
__global__ void rmsprop_kernel(T* __restrict__ p, const T* __restrict__ g,
                               T* __restrict__ square_avg, T* __restrict__ grad_avg,
                               T* __restrict__ buffer, int64_t n, RMSpropParams hyper,
                               StepControl control) {
  T scale;
  if (!step_enabled(control, &scale)) return;
  for_each_element<kFour>(n, [&](auto width, int64_t i) {
    constexpr int W = decltype(width)::value;
    T pv[W], gv[W], sv[W], av[W], bv[W];
    load(p + i, pv), load(g + i, gv), load(square_avg + i, sv);
    if (grad_avg != nullptr) load(grad_avg + i, av);
    if (buffer != nullptr) load(buffer + i, bv);
#pragma unroll
    for (int j = 0; j < W; ++j) {
      rmsprop_element(pv[j], gv[j], sv[j], grad_avg != nullptr ? &av[j] : nullptr,
                      buffer != nullptr ? &bv[j] : nullptr, hyper, scale);
    }
    store(p + i, pv), store(square_avg + i, sv);
    if (grad_avg != nullptr) store(grad_avg + i, av);
    if (buffer != nullptr) store(buffer + i, bv);
  });
}
}  // namespace

void rmsprop(const RMSpropArgs& a, void* stream) {
  if (a.n == 0) return;
  const bool four =
      aligned_for_four({a.params, a.grads, a.square_avg, a.grad_avg, a.momentum_buffer});
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    auto kernel = four ? rmsprop_kernel<T, true> : rmsprop_kernel<T, false>;
    kernel<<<grid_for_elements(a.n, four), kThreads, 0, as_stream(stream)>>>(
        static_cast<T*>(a.params), static_cast<const T*>(a.grads), static_cast<T*>(a.square_avg),
        static_cast<T*>(a.grad_avg), static_cast<T*>(a.momentum_buffer), a.n, a.hyper, a.control);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
