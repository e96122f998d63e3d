// CPU launcher of the global gradient norm (kernels/grad_norm.h): chunks in parallel, the
// partials added in order.
#include <algorithm>
#include <cmath>

#include "../grad_norm.h"

namespace tg::kernels::cpu {

void norm_partials(const NormPartialsArgs& a) {
  const int64_t chunks = kernels::norm_partials(a.n), chunk = norm_chunk(a.n);
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* g = static_cast<const T*>(a.grads);
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t end = std::min(a.n, (c + 1) * chunk);
      double total = 0;
#pragma omp simd reduction(+ : total)
      for (int64_t i = c * chunk; i < end; ++i) total += static_cast<double>(g[i]) * g[i];
      a.partials[c] = total;
    }
  });
  if (!a.finishes) return;
  double total = 0;
  for (int64_t i = 0; i < a.finish.count; ++i) total += a.finish.partials[i];
  finish_clip(total, a.finish);
}

}  // namespace tg::kernels::cpu
