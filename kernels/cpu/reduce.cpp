// CPU launcher of the row reductions (kernels/reduce.h): OpenMP over rows, sums
// accumulated in double.
#include "tamegrad/kernels/reduce.h"

namespace tg::kernels::cpu {

void reduce(const ReduceArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(args.in);
    T* out = static_cast<T*>(args.out);
#pragma omp parallel for schedule(static) if (args.outer * args.inner > (1 << 15))
    for (int64_t row = 0; row < args.outer; ++row) {
      const T* x = in + row * args.inner;
      if (args.op == ReduceOp::Sum) {
        double total = 0;
        for (int64_t i = 0; i < args.inner; ++i) total += x[i];
        out[row] = static_cast<T>(total);
        continue;
      }
      T best = x[0];
      int64_t best_index = 0;
      for (int64_t i = 1; i < args.inner; ++i) {
        if (extreme_replaces(args.op, x[i], best)) {
          best = x[i];
          best_index = i;
        }
      }
      out[row] = best;
      if (args.indices != nullptr) args.indices[row] = best_index;
    }
  });
}

}  // namespace tg::kernels::cpu
