// CUDA launcher of the fused RMSProp update (kernels/rmsprop.h); the CPU twin is
// kernels/cpu/rmsprop.cpp.
#include "kernels/cuda/update_loop.cuh"
#include "kernels/rmsprop.h"

namespace tg::kernels::cuda {

namespace {
template <typename T>
__global__ void rmsprop_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ square_avg,
                               T* __restrict__ grad_avg, T* __restrict__ buffer, int64_t n,
                               RmspropParams hyper, StepControl control) {
  T scale;
  if (!step_enabled(control, &scale)) return;
  TG_FOR_EACH_PARAMETER(i, n) {
    T pi = p[i], si = square_avg[i];
    rmsprop_element(pi, g[i], si, grad_avg != nullptr ? &grad_avg[i] : nullptr,
                    buffer != nullptr ? &buffer[i] : nullptr, hyper, scale);
    p[i] = pi;
    square_avg[i] = si;
  }
}
}  // namespace

void rmsprop(const RmspropArgs& a, void* stream) {
  if (a.n == 0) return;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    rmsprop_kernel<T><<<grid_for(a.n), kThreads, 0, as_stream(stream)>>>(
        static_cast<T*>(a.params), static_cast<const T*>(a.grads), static_cast<T*>(a.square_avg),
        static_cast<T*>(a.grad_avg), static_cast<T*>(a.momentum_buffer), a.n, a.hyper, a.control);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
