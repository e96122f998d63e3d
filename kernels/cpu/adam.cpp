// CPU launcher of the fused Adam/AdamW update (kernels/adam.h). AMSGrad is a template
// parameter and each element works on local copies, so the loop vectorises.
#include "../adam.h"
#include "update_loop.h"

namespace tg::kernels::cpu {

namespace {
template <typename T, bool kAmsgrad>
void adam_typed(const AdamArgs& a) {
  T scale;
  if (!step_enabled(a.control, &scale)) return;
  T* __restrict__ p = static_cast<T*>(a.params);
  const T* __restrict__ g = static_cast<const T*>(a.grads);
  T* __restrict__ m = static_cast<T*>(a.m);
  T* __restrict__ v = static_cast<T*>(a.v);
  T* __restrict__ v_max = static_cast<T*>(a.v_max);
  const AdamStep step = launch_step(a.step, a.control);
  const int64_t n = a.n;
#pragma omp parallel for simd schedule(static) if (n > kUpdateParallelAbove)
  for (int64_t i = 0; i < n; ++i) {
    T pi = p[i], mi = m[i], vi = v[i], vmax_i = kAmsgrad ? v_max[i] : T(0);
    adam_element(pi, g[i], mi, vi, kAmsgrad ? &vmax_i : nullptr, step, scale);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
    if (kAmsgrad) v_max[i] = vmax_i;
  }
}
}  // namespace

void adam(const AdamArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (a.v_max != nullptr) {
      adam_typed<T, true>(a);
    } else {
      adam_typed<T, false>(a);
    }
  });
}

}  // namespace tg::kernels::cpu
