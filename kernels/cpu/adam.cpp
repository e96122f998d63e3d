// CPU launcher of the fused Adam/AdamW update (kernels/adam.h); the loop is compiled per
// x86-64 level (update_loop.h). AMSGrad is a template parameter and each element works on
// local copies, so the loop vectorises.
#include "../adam.h"
#include "update_loop.h"

namespace tg::kernels::cpu {

namespace {

template <typename T, bool kAmsgrad>
inline __attribute__((always_inline)) void adam_lanes(const AdamArgs& a, const AdamStep& step,
                                                      T scale, int64_t first, int64_t last) {
  T* __restrict__ p = static_cast<T*>(a.params);
  const T* __restrict__ g = static_cast<const T*>(a.grads);
  T* __restrict__ m = static_cast<T*>(a.m);
  T* __restrict__ v = static_cast<T*>(a.v);
  T* __restrict__ v_max = static_cast<T*>(a.v_max);
  for (int64_t i = first; i < last; ++i) {
    T pi = p[i], mi = m[i], vi = v[i], vmax_i = kAmsgrad ? v_max[i] : T(0);
    adam_element(pi, g[i], mi, vi, kAmsgrad ? &vmax_i : nullptr, step, scale);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
    if (kAmsgrad) v_max[i] = vmax_i;
  }
}

TG_ISA_CLONES void adam_range(const AdamArgs& a, const AdamStep& step, float scale, int64_t first,
                              int64_t last) {
  if (a.v_max != nullptr) return adam_lanes<float, true>(a, step, scale, first, last);
  adam_lanes<float, false>(a, step, scale, first, last);
}

TG_ISA_CLONES void adam_range(const AdamArgs& a, const AdamStep& step, double scale, int64_t first,
                              int64_t last) {
  if (a.v_max != nullptr) return adam_lanes<double, true>(a, step, scale, first, last);
  adam_lanes<double, false>(a, step, scale, first, last);
}

template <typename T>
void adam_typed(const AdamArgs& a) {
  T scale;
  if (!step_enabled(a.control, &scale)) return;
  const AdamStep step = launch_step(a.step, a.control);
  update_tasks(a.n, static_cast<T*>(a.params),
               [&](int64_t first, int64_t last) { adam_range(a, step, scale, first, last); });
}

}  // namespace

void adam(const AdamArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) { adam_typed<decltype(tag)>(a); });
}

}  // namespace tg::kernels::cpu
