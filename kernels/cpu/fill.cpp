// CPU launcher of fill and arange (kernels/fill.h).
#include "../fill.h"

namespace tg::kernels::cpu {

void fill(const FillArgs& args) {
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* dst = static_cast<T*>(args.dst);
#pragma omp parallel for schedule(static) if (args.numel > (1 << 16))
    for (int64_t i = 0; i < args.numel; ++i) dst[i] = fill_element<T>(args, i);
  });
}

}  // namespace tg::kernels::cpu
