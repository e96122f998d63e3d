// CPU launcher of the fused SGD update (kernels/sgd.h); momentum is a template parameter
// so the loop vectorises.
#include "../sgd.h"
#include "update_loop.h"

namespace tg::kernels::cpu {

namespace {
template <typename T, bool kMomentum>
void sgd_typed(const SGDArgs& a) {
  T scale;
  if (!step_enabled(a.control, &scale)) return;
  T* __restrict__ p = static_cast<T*>(a.params);
  const T* __restrict__ g = static_cast<const T*>(a.grads);
  T* __restrict__ buffer = static_cast<T*>(a.momentum_buffer);
  const SGDStep step = launch_step(a.step, a.control);
  const int64_t n = a.n;
#pragma omp parallel for simd schedule(static) if (n > kUpdateParallelAbove)
  for (int64_t i = 0; i < n; ++i) {
    T pi = p[i], bi = kMomentum ? buffer[i] : T(0);
    sgd_element(pi, g[i], kMomentum ? &bi : nullptr, step, scale);
    p[i] = pi;
    if (kMomentum) buffer[i] = bi;
  }
}
}  // namespace

void sgd(const SGDArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (a.momentum_buffer != nullptr) {
      sgd_typed<T, true>(a);
    } else {
      sgd_typed<T, false>(a);
    }
  });
}

}  // namespace tg::kernels::cpu
