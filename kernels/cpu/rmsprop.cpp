// CPU launcher of the fused RMSProp update (kernels/rmsprop.h); centered and momentum are
// template parameters so the loop vectorises.
#include "../rmsprop.h"
#include "update_loop.h"

namespace tg::kernels::cpu {

namespace {
template <typename T, bool kCentered, bool kMomentum>
void rmsprop_typed(const RMSpropArgs& a) {
  T scale;
  if (!step_enabled(a.control, &scale)) return;
  T* __restrict__ p = static_cast<T*>(a.params);
  const T* __restrict__ g = static_cast<const T*>(a.grads);
  T* __restrict__ square_avg = static_cast<T*>(a.square_avg);
  T* __restrict__ grad_avg = static_cast<T*>(a.grad_avg);
  T* __restrict__ buffer = static_cast<T*>(a.momentum_buffer);
  const RMSpropParams hyper = a.hyper;
  const int64_t n = a.n;
#pragma omp parallel for simd schedule(static) if (n > kUpdateParallelAbove)
  for (int64_t i = 0; i < n; ++i) {
    T pi = p[i], si = square_avg[i], ai = kCentered ? grad_avg[i] : T(0),
      bi = kMomentum ? buffer[i] : T(0);
    rmsprop_element(pi, g[i], si, kCentered ? &ai : nullptr, kMomentum ? &bi : nullptr, hyper,
                    scale);
    p[i] = pi;
    square_avg[i] = si;
    if (kCentered) grad_avg[i] = ai;
    if (kMomentum) buffer[i] = bi;
  }
}

template <typename T, bool kCentered>
void with_momentum_choice(const RMSpropArgs& a) {
  if (a.momentum_buffer != nullptr) {
    rmsprop_typed<T, kCentered, true>(a);
  } else {
    rmsprop_typed<T, kCentered, false>(a);
  }
}
}  // namespace

void rmsprop(const RMSpropArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (a.grad_avg != nullptr) {
      with_momentum_choice<T, true>(a);
    } else {
      with_momentum_choice<T, false>(a);
    }
  });
}

}  // namespace tg::kernels::cpu
