// CPU launcher of the fused AdaGrad update (kernels/adagrad.h); the loop is compiled per
// x86-64 level (update_loop.h).
#include "../adagrad.h"
#include "update_loop.h"

namespace tg::kernels::cpu {

namespace {
template <typename T>
inline __attribute__((always_inline)) void adagrad_lanes(const AdagradArgs& a,
                                                         const AdagradStep& step, T scale,
                                                         int64_t first, int64_t last) {
  T* __restrict__ p = static_cast<T*>(a.params);
  const T* __restrict__ g = static_cast<const T*>(a.grads);
  T* __restrict__ sum = static_cast<T*>(a.sum);
  for (int64_t i = first; i < last; ++i) {
    T pi = p[i], si = sum[i];
    adagrad_element(pi, g[i], si, step, scale);
    p[i] = pi;
    sum[i] = si;
  }
}

TG_ISA_CLONES void adagrad_range(const AdagradArgs& a, const AdagradStep& step, float scale,
                                 int64_t first, int64_t last) {
  adagrad_lanes(a, step, scale, first, last);
}
TG_ISA_CLONES void adagrad_range(const AdagradArgs& a, const AdagradStep& step, double scale,
                                 int64_t first, int64_t last) {
  adagrad_lanes(a, step, scale, first, last);
}

template <typename T>
void adagrad_typed(const AdagradArgs& a) {
  T scale;
  if (!step_enabled(a.control, &scale)) return;
  const AdagradStep step = launch_step(a.step, a.control);
  update_tasks(a.n, static_cast<T*>(a.params),
               [&](int64_t first, int64_t last) { adagrad_range(a, step, scale, first, last); });
}
}  // namespace

void adagrad(const AdagradArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) { adagrad_typed<decltype(tag)>(a); });
}

}  // namespace tg::kernels::cpu
