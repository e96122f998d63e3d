// CUDA launcher of the fused AdaGrad update (kernels/adagrad.h); the CPU twin is
// kernels/cpu/adagrad.cpp.
#include "kernels/adagrad.h"
#include "kernels/cuda/update_loop.cuh"

namespace tg::kernels::cuda {

namespace {
template <typename T>
__global__ void adagrad_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ sum,
                               int64_t n, AdagradStep step, StepControl control) {
  T scale;
  if (!step_enabled(control, &scale)) return;
  TG_FOR_EACH_PARAMETER(i, n) {
    T pi = p[i], si = sum[i];
    adagrad_element(pi, g[i], si, step, scale);
    p[i] = pi;
    sum[i] = si;
  }
}
}  // namespace

void adagrad(const AdagradArgs& a, void* stream) {
  if (a.n == 0) return;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    adagrad_kernel<T><<<grid_for(a.n), kThreads, 0, as_stream(stream)>>>(
        static_cast<T*>(a.params), static_cast<const T*>(a.grads), static_cast<T*>(a.sum), a.n,
        a.step, a.control);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
