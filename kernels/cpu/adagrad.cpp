// CPU launcher of the fused AdaGrad update (kernels/adagrad.h).
#include "../adagrad.h"
#include "update_loop.h"

namespace tg::kernels::cpu {

namespace {
template <typename T>
void adagrad_typed(const AdagradArgs& a) {
  T scale;
  if (!step_enabled(a.control, &scale)) return;
  T* __restrict__ p = static_cast<T*>(a.params);
  const T* __restrict__ g = static_cast<const T*>(a.grads);
  T* __restrict__ sum = static_cast<T*>(a.sum);
  const AdagradStep step = launch_step(a.step, a.control);
  const int64_t n = a.n;
#pragma omp parallel for simd schedule(static) if (n > kUpdateParallelAbove)
  for (int64_t i = 0; i < n; ++i) {
    T pi = p[i], si = sum[i];
    adagrad_element(pi, g[i], si, step, scale);
    p[i] = pi;
    sum[i] = si;
  }
}
}  // namespace

void adagrad(const AdagradArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) { adagrad_typed<decltype(tag)>(a); });
}

}  // namespace tg::kernels::cpu
