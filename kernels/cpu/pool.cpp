// CPU launchers of 2-D pooling (kernels/pool.h): OpenMP over output (or input) elements.
#include "tamegrad/kernels/pool.h"

namespace tg::kernels::cpu {

void pool2d_forward(const PoolForwardArgs& args) {
  const Pool2dArgs& a = args.shape;
  const int64_t per_plane = a.out_h * a.out_w, total = a.planes * per_plane;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(args.in);
    T* out = static_cast<T*>(args.out);
#pragma omp parallel for schedule(static) if (total > (1 << 12))
    for (int64_t i = 0; i < total; ++i) {
      const int64_t p = i / per_plane, oh = (i % per_plane) / a.out_w, ow = i % a.out_w;
      const T* plane = in + p * a.in_h * a.in_w;
      if (args.is_max) {
        out[i] = max_pool_element(a, plane, oh, ow, &args.argmax[i]);
      } else {
        out[i] = avg_pool_element(a, plane, oh, ow);
      }
    }
  });
}

void pool2d_backward(const PoolBackwardArgs& args) {
  const Pool2dArgs& a = args.shape;
  const int64_t per_plane = a.in_h * a.in_w, total = a.planes * per_plane;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* grad = static_cast<const T*>(args.grad);
    T* grad_in = static_cast<T*>(args.grad_in);
#pragma omp parallel for schedule(static) if (total > (1 << 12))
    for (int64_t i = 0; i < total; ++i) {
      const int64_t p = i / per_plane, h = (i % per_plane) / a.in_w, w = i % a.in_w;
      const int64_t plane_out = p * a.out_h * a.out_w;
      grad_in[i] = pool_backward_element(a, args.is_max, grad + plane_out,
                                         args.is_max ? args.argmax + plane_out : nullptr, h, w);
    }
  });
}

}  // namespace tg::kernels::cpu
