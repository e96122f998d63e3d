// CPU launcher of unit-wise adaptive gradient clipping (kernels/agc.h): units in parallel,
// each unit's two sums of squares vectorised.
#include "../agc.h"

namespace tg::kernels::cpu {

void unit_clip(const UnitClipArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* w = static_cast<const T*>(a.params);
    T* g = static_cast<T*>(a.grads);
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t u = 0; u < a.units; ++u) {
      const int64_t begin = a.unit_starts[u], end = a.unit_starts[u + 1];
      double ws = 0, gs = 0;
#pragma omp simd reduction(+ : ws, gs)
      for (int64_t i = begin; i < end; ++i) {
        ws += static_cast<double>(w[i]) * w[i];
        gs += static_cast<double>(g[i]) * g[i];
      }
      const double factor = unit_clip_factor(ws, gs, a.lambda, a.eps);
      if (factor == 1.0) continue;
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) g[i] = static_cast<T>(g[i] * factor);
    }
  });
}

}  // namespace tg::kernels::cpu
