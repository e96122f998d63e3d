// CPU launcher of the per-tensor parameter statistics (kernels/param_stats.h): one
// parallel loop over the pieces, each summing its range in order.
#include "../param_stats.h"

namespace tg::kernels::cpu {

void param_stats(const ParamStatsArgs& a) {
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* w = static_cast<const T*>(a.params);
    const T* g = static_cast<const T*>(a.grads);
    T* w0 = static_cast<T*>(a.previous);
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < a.piece_count; ++p) {
      StatSums s;
      for (int64_t i = a.pieces[2 * p]; i < a.pieces[2 * p + 1]; ++i) {
        add_element_stats(g[i], w[i], w0[i], s);
        w0[i] = w[i];
      }
      double* row = a.sums + p * kStatColumns;
      row[kGradSquares] = s.grad;
      row[kWeightSquares] = s.weight;
      row[kUpdateSquares] = s.update;
      row[kZeroGrads] = s.zeros;
    }
  });
}

}  // namespace tg::kernels::cpu
