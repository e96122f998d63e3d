// CPU launcher of the fused SGD update (kernels/sgd.h).
#include "kernels/cpu/update_loop.h"
#include "kernels/sgd.h"

namespace tg::kernels::cpu {

void sgd(const SgdArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(a.params);
    const T* g = static_cast<const T*>(a.grads);
    T* buffer = static_cast<T*>(a.momentum_buffer);
    const SgdStep step = a.step;
    for_each_parameter<T>(a.n, a.control, [=](int64_t i, T scale) {
      sgd_element(p[i], g[i], buffer != nullptr ? &buffer[i] : nullptr, step, scale);
    });
  });
}

}  // namespace tg::kernels::cpu
