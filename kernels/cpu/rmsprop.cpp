// CPU launcher of the fused RMSProp update (kernels/rmsprop.h).
#include "kernels/cpu/update_loop.h"
#include "kernels/rmsprop.h"

namespace tg::kernels::cpu {

void rmsprop(const RmspropArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(a.params);
    const T* g = static_cast<const T*>(a.grads);
    T* square_avg = static_cast<T*>(a.square_avg);
    T* grad_avg = static_cast<T*>(a.grad_avg);
    T* buffer = static_cast<T*>(a.momentum_buffer);
    const RmspropParams hyper = a.hyper;
    for_each_parameter<T>(a.n, a.control, [=](int64_t i, T scale) {
      rmsprop_element(p[i], g[i], square_avg[i], grad_avg != nullptr ? &grad_avg[i] : nullptr,
                      buffer != nullptr ? &buffer[i] : nullptr, hyper, scale);
    });
  });
}

}  // namespace tg::kernels::cpu
