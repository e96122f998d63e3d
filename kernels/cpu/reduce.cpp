// CPU launchers of the row reductions and the column sum (kernels/reduce.h): OpenMP over
// rows (over blocks of columns), sums accumulated in double.
#include "tamegrad/kernels/reduce.h"

#include <algorithm>

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

void column_sum(const ColumnSumArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(args.in);
    T* out = static_cast<T*>(args.out);
    constexpr int64_t kBlock = 256;  // columns per task: their accumulators stay in registers/L1
    const int64_t blocks = (args.cols + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (args.rows * args.cols > (1 << 15))
    for (int64_t block = 0; block < blocks; ++block) {
      const int64_t first = block * kBlock, width = std::min(kBlock, args.cols - first);
      double total[kBlock];
      for (int64_t j = 0; j < width; ++j) total[j] = 0;
      for (int64_t r = 0; r < args.rows; ++r) {
        const T* row = in + r * args.cols + first;
        for (int64_t j = 0; j < width; ++j) total[j] += row[j];
      }
      for (int64_t j = 0; j < width; ++j) out[first + j] = static_cast<T>(total[j]);
    }
  });
}

}  // namespace tg::kernels::cpu
