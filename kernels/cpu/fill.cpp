// CPU launcher of fill and arange (kernels/fill.h). A constant fill (step 0, every zero_grad)
// computes its one value once and stores it in a vectorised loop: each element's value is
// start + i·0, the same for all, so the bits are those of fill_element; a sequence computes
// every element.
#include <algorithm>

#include "../fill.h"

namespace tg::kernels::cpu {

namespace {
constexpr int64_t kParallelAbove = 1 << 16;
constexpr int64_t kChunk = 1 << 14;  // elements per task of a constant fill
}  // namespace

void fill(const FillArgs& args) {
  visit_storage_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* dst = static_cast<T*>(args.dst);
    if (args.step == 0) {
      const T value = fill_element<T>(args, 0);
      const int64_t chunks = (args.numel + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (args.numel > kParallelAbove)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t first = c * kChunk;
        std::fill_n(dst + first, std::min(kChunk, args.numel - first), value);
      }
      return;
    }
#pragma omp parallel for schedule(static) if (args.numel > kParallelAbove)
    for (int64_t i = 0; i < args.numel; ++i) dst[i] = fill_element<T>(args, i);
  });
}

}  // namespace tg::kernels::cpu
