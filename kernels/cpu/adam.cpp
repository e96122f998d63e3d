// CPU launcher of the fused Adam/AdamW update (kernels/adam.h).
#include "kernels/adam.h"
#include "kernels/cpu/update_loop.h"

namespace tg::kernels::cpu {

void adam(const AdamArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(a.params);
    const T* g = static_cast<const T*>(a.grads);
    T* m = static_cast<T*>(a.m);
    T* v = static_cast<T*>(a.v);
    T* v_max = static_cast<T*>(a.v_max);
    const AdamStep step = a.step;
    for_each_parameter<T>(a.n, a.control, [=](int64_t i, T scale) {
      adam_element(p[i], g[i], m[i], v[i], v_max != nullptr ? &v_max[i] : nullptr, step, scale);
    });
  });
}

}  // namespace tg::kernels::cpu
