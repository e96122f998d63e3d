// CUDA launcher of the fused AdaGrad update (kernels/adagrad.h); the CPU twin is
// kernels/cpu/adagrad.cpp.
#include "../adagrad.h"
#include "update_loop.cuh"

namespace tg::kernels::cuda {

namespace {
template <typename T, bool kFour>
__global__ void adagrad_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ sum,
                               int64_t n, AdagradStep given_step, StepControl control) {
  T scale;
  if (!step_enabled(control, &scale)) return;
  const AdagradStep step = block_step(given_step, control);
  for_each_element<kFour>(n, [&](auto width, int64_t i) {
    constexpr int W = decltype(width)::value;
    T pv[W], gv[W], sv[W];
    load(p + i, pv), load(g + i, gv), load(sum + i, sv);
#pragma unroll
    for (int j = 0; j < W; ++j) adagrad_element(pv[j], gv[j], sv[j], step, scale);
    store(p + i, pv), store(sum + i, sv);
  });
}
}  // namespace

void adagrad(const AdagradArgs& a, void* stream) {
  if (a.n == 0) return;
  const bool four = aligned_for_four({a.params, a.grads, a.sum});
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    auto kernel = four ? adagrad_kernel<T, true> : adagrad_kernel<T, false>;
    kernel<<<grid_for_elements(a.n, four), kThreads, 0, as_stream(stream)>>>(
        static_cast<T*>(a.params), static_cast<const T*>(a.grads), static_cast<T*>(a.sum), a.n,
        a.step, a.control);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
