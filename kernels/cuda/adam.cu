// CUDA launcher of the fused Adam/AdamW update (kernels/adam.h); the CPU twin is
// kernels/cpu/adam.cpp. One launch updates a whole flat parameter group.
#include "kernels/adam.h"
#include "kernels/cuda/update_loop.cuh"

namespace tg::kernels::cuda {

namespace {
template <typename T>
__global__ void adam_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ m,
                            T* __restrict__ v, T* __restrict__ v_max, int64_t n, AdamStep step,
                            StepControl control) {
  T scale;
  if (!step_enabled(control, &scale)) return;
  TG_FOR_EACH_PARAMETER(i, n) {
    T pi = p[i], mi = m[i], vi = v[i];
    adam_element(pi, g[i], mi, vi, v_max != nullptr ? &v_max[i] : nullptr, step, scale);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
  }
}
}  // namespace

void adam(const AdamArgs& a, void* stream) {
  if (a.n == 0) return;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    adam_kernel<T><<<grid_for(a.n), kThreads, 0, as_stream(stream)>>>(
        static_cast<T*>(a.params), static_cast<const T*>(a.grads), static_cast<T*>(a.m),
        static_cast<T*>(a.v), static_cast<T*>(a.v_max), a.n, a.step, a.control);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
