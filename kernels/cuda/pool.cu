// CUDA launchers of 2-D pooling (kernels/pool.h); the CPU twin is kernels/cpu/pool.cpp.
#include "../pool.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

template <typename T>
__global__ void pool_forward_kernel(const T* __restrict__ in, T* __restrict__ out,
                                    int64_t* __restrict__ argmax, Pool2dArgs a, bool is_max) {
  const int64_t per_plane = a.out_h * a.out_w, total = a.planes * per_plane;
  for (const int64_t i : grid_stride(total)) {
    const int64_t p = i / per_plane, oh = (i % per_plane) / a.out_w, ow = i % a.out_w;
    const T* plane = in + p * a.in_h * a.in_w;
    out[i] = is_max ? max_pool_element(a, plane, oh, ow, &argmax[i])
                    : avg_pool_element(a, plane, oh, ow);
  }
}

template <typename T>
__global__ void pool_backward_kernel(const T* __restrict__ grad, const int64_t* __restrict__ argmax,
                                     T* __restrict__ grad_in, Pool2dArgs a, bool is_max) {
  const int64_t per_plane = a.in_h * a.in_w, total = a.planes * per_plane;
  for (const int64_t i : grid_stride(total)) {
    const int64_t p = i / per_plane, h = (i % per_plane) / a.in_w, w = i % a.in_w;
    const int64_t plane_out = p * a.out_h * a.out_w;
    grad_in[i] = pool_backward_element(a, is_max, grad + plane_out,
                                       is_max ? argmax + plane_out : nullptr, h, w);
  }
}

}  // namespace

void pool2d_forward(const PoolForwardArgs& args, void* stream) {
  const Pool2dArgs& a = args.shape;
  const int64_t total = a.planes * a.out_h * a.out_w;
  if (total == 0) return;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    pool_forward_kernel<T><<<grid_for(total), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.in), static_cast<T*>(args.out), args.argmax, a, args.is_max);
    TG_CUDA_CHECK_LAUNCH();
  });
}

void pool2d_backward(const PoolBackwardArgs& args, void* stream) {
  const Pool2dArgs& a = args.shape;
  const int64_t total = a.planes * a.in_h * a.in_w;
  if (total == 0) return;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    pool_backward_kernel<T><<<grid_for(total), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.grad), args.argmax, static_cast<T*>(args.grad_in), a,
        args.is_max);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
