// CPU launcher of the fused RMSProp update (kernels/rmsprop.h); centered and momentum are
// template parameters so the loop vectorises, and the loop is compiled per x86-64 level
// (update_loop.h).
#include "../rmsprop.h"
#include "update_loop.h"

namespace tg::kernels::cpu {

namespace {
template <typename T, bool kCentered, bool kMomentum>
inline __attribute__((always_inline)) void rmsprop_lanes(const RMSpropArgs& a, T scale,
                                                         int64_t first, int64_t last) {
  T* __restrict__ p = static_cast<T*>(a.params);
  const T* __restrict__ g = static_cast<const T*>(a.grads);
  T* __restrict__ square_avg = static_cast<T*>(a.square_avg);
  T* __restrict__ grad_avg = static_cast<T*>(a.grad_avg);
  T* __restrict__ buffer = static_cast<T*>(a.momentum_buffer);
  const RMSpropParams hyper = a.hyper;
  for (int64_t i = first; i < last; ++i) {
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

// The four loops of one dtype, chosen by which state the call carries.
template <typename T>
inline __attribute__((always_inline)) void rmsprop_variant(const RMSpropArgs& a, T scale,
                                                           int64_t first, int64_t last) {
  const bool centered = a.grad_avg != nullptr, momentum = a.momentum_buffer != nullptr;
  if (centered && momentum) return rmsprop_lanes<T, true, true>(a, scale, first, last);
  if (centered) return rmsprop_lanes<T, true, false>(a, scale, first, last);
  if (momentum) return rmsprop_lanes<T, false, true>(a, scale, first, last);
  rmsprop_lanes<T, false, false>(a, scale, first, last);
}

TG_ISA_CLONES void rmsprop_range(const RMSpropArgs& a, float scale, int64_t first, int64_t last) {
  rmsprop_variant(a, scale, first, last);
}
TG_ISA_CLONES void rmsprop_range(const RMSpropArgs& a, double scale, int64_t first, int64_t last) {
  rmsprop_variant(a, scale, first, last);
}

template <typename T>
void rmsprop_typed(const RMSpropArgs& a) {
  T scale;
  if (!step_enabled(a.control, &scale)) return;
  update_tasks(a.n, static_cast<T*>(a.params),
               [&](int64_t first, int64_t last) { rmsprop_range(a, scale, first, last); });
}
}  // namespace

void rmsprop(const RMSpropArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) { rmsprop_typed<decltype(tag)>(a); });
}

}  // namespace tg::kernels::cpu
