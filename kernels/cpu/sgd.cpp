// CPU launcher of the fused SGD update (kernels/sgd.h); momentum is a template parameter
// so the loop vectorises, and the loop is compiled per x86-64 level (update_loop.h).
#include "../sgd.h"
#include "update_loop.h"

namespace tg::kernels::cpu {

namespace {
template <typename T, bool kMomentum>
inline __attribute__((always_inline)) void sgd_lanes(const SGDArgs& a, const SGDStep& step, T scale,
                                                     int64_t first, int64_t last) {
  T* __restrict__ p = static_cast<T*>(a.params);
  const T* __restrict__ g = static_cast<const T*>(a.grads);
  T* __restrict__ buffer = static_cast<T*>(a.momentum_buffer);
  for (int64_t i = first; i < last; ++i) {
    T pi = p[i], bi = kMomentum ? buffer[i] : T(0);
    sgd_element(pi, g[i], kMomentum ? &bi : nullptr, step, scale);
    p[i] = pi;
    if (kMomentum) buffer[i] = bi;
  }
}

TG_ISA_CLONES void sgd_range(const SGDArgs& a, const SGDStep& step, float scale, int64_t first,
                             int64_t last) {
  if (a.momentum_buffer != nullptr) return sgd_lanes<float, true>(a, step, scale, first, last);
  sgd_lanes<float, false>(a, step, scale, first, last);
}
TG_ISA_CLONES void sgd_range(const SGDArgs& a, const SGDStep& step, double scale, int64_t first,
                             int64_t last) {
  if (a.momentum_buffer != nullptr) return sgd_lanes<double, true>(a, step, scale, first, last);
  sgd_lanes<double, false>(a, step, scale, first, last);
}

template <typename T>
void sgd_typed(const SGDArgs& a) {
  T scale;
  if (!step_enabled(a.control, &scale)) return;
  const SGDStep step = launch_step(a.step, a.control);
  update_tasks(a.n, static_cast<T*>(a.params),
               [&](int64_t first, int64_t last) { sgd_range(a, step, scale, first, last); });
}
}  // namespace

void sgd(const SGDArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) { sgd_typed<decltype(tag)>(a); });
}

}  // namespace tg::kernels::cpu
