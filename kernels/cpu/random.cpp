// CPU launcher of the random draws (kernels/random.h): one Philox block per iteration,
// OpenMP over blocks. The values match kernels/cuda/random.cu bit for bit.
#include "../random.h"

#include <algorithm>

namespace tg::kernels::cpu {

void random(const RandomArgs& args) {
  TG_ASSERT(args.offset_base == nullptr, "random: a device-side offset base on the CPU");
  const int per_block = values_per_block(args.distribution, args.dtype);
  const int64_t blocks = (args.numel + per_block - 1) / per_block;
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* dst = static_cast<T*>(args.dst);
#pragma omp parallel for schedule(static) if (blocks > (1 << 12))
    for (int64_t block = 0; block < blocks; ++block) {
      double values[4];
      random_block_values(args, philox_block(args.seed, args.offset, block), values);
      const int64_t first = block * per_block;
      const int64_t count = std::min<int64_t>(per_block, args.numel - first);
      for (int64_t j = 0; j < count; ++j) dst[first + j] = convert_element<T>(values[j]);
    }
  });
}

}  // namespace tg::kernels::cpu
