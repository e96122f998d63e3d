// CUDA launcher of the fused SGD update (kernels/sgd.h); the CPU twin is kernels/cpu/sgd.cpp.
#include "kernels/cuda/update_loop.cuh"
#include "kernels/sgd.h"

namespace tg::kernels::cuda {

namespace {
template <typename T>
__global__ void sgd_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ buffer,
                           int64_t n, SgdStep step, StepControl control) {
  T scale;
  if (!step_enabled(control, &scale)) return;
  TG_FOR_EACH_PARAMETER(i, n) {
    T pi = p[i];
    sgd_element(pi, g[i], buffer != nullptr ? &buffer[i] : nullptr, step, scale);
    p[i] = pi;
  }
}
}  // namespace

void sgd(const SgdArgs& a, void* stream) {
  if (a.n == 0) return;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    sgd_kernel<T><<<grid_for(a.n), kThreads, 0, as_stream(stream)>>>(
        static_cast<T*>(a.params), static_cast<const T*>(a.grads),
        static_cast<T*>(a.momentum_buffer), a.n, a.step, a.control);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
