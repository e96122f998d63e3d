// CPU launcher of dropout (kernels/dropout.h): one Philox block (4 elements) per iteration.
#include <algorithm>

#include "kernels/dropout.h"

namespace tg::kernels::cpu {

void dropout(const DropoutArgs& a) {
  const int64_t blocks = (a.n + 3) / 4;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(a.in);
    T* out = static_cast<T*>(a.out);
    const T scale = static_cast<T>(a.scale);
#pragma omp parallel for schedule(static) if (blocks > (1 << 12))
    for (int64_t b = 0; b < blocks; ++b) {
      const Philox4x32 r = philox_block(a.seed, a.offset, static_cast<uint64_t>(b));
      const int64_t end = std::min<int64_t>(a.n, 4 * b + 4);
      for (int64_t i = 4 * b; i < end; ++i) {
        out[i] = dropout_element(r.v[i % 4], in[i], a.p, scale);
      }
    }
  });
}

}  // namespace tg::kernels::cpu
