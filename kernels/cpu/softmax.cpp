// CPU launcher of softmax / log-softmax (kernels/softmax.h): OpenMP over rows.
#include <algorithm>
#include <cmath>

#include "../softmax.h"

namespace tg::kernels::cpu {

void softmax(const SoftmaxArgs& args) {
  if (args.cols == 0) return;
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
#pragma omp parallel for schedule(static) if (args.rows * args.cols > (1 << 14))
    for (int64_t r = 0; r < args.rows; ++r) {
      const T* x = static_cast<const T*>(args.in) + r * args.cols;
      T* y = static_cast<T*>(args.out) + r * args.cols;
      T row_max = x[0];
      for (int64_t c = 1; c < args.cols; ++c) row_max = std::max(row_max, x[c]);
      double total = 0;
      for (int64_t c = 0; c < args.cols; ++c)
        total += std::exp(static_cast<double>(x[c] - row_max));
      const T log_sum = static_cast<T>(std::log(total));
      for (int64_t c = 0; c < args.cols; ++c)
        y[c] = softmax_element(args.log, x[c], row_max, log_sum);
    }
  });
}

}  // namespace tg::kernels::cpu
