// CPU launcher of the fused AdaGrad update (kernels/adagrad.h).
#include "kernels/adagrad.h"
#include "kernels/cpu/update_loop.h"

namespace tg::kernels::cpu {

void adagrad(const AdagradArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(a.params);
    const T* g = static_cast<const T*>(a.grads);
    T* sum = static_cast<T*>(a.sum);
    const AdagradStep step = a.step;
    for_each_parameter<T>(a.n, a.control, [=](int64_t i, T scale) {
      adagrad_element(p[i], g[i], sum[i], step, scale);
    });
  });
}

}  // namespace tg::kernels::cpu
