// CPU launcher of the augmentation (kernels/augment.h): one sample per iteration, its draw
// made once.
#include "../augment.h"

namespace tg::kernels::cpu {

void augment(const AugmentArgs& a) {
  const int64_t per_sample = a.c * a.h * a.w;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* out = static_cast<T*>(a.out);
#pragma omp parallel for schedule(static) if (a.n * per_sample > (1 << 15))
    for (int64_t s = 0; s < a.n; ++s) {
      const AugmentDraw d = augment_draw(a, s);
      for (int64_t i = s * per_sample; i < (s + 1) * per_sample; ++i) {
        out[i] = augment_element<T>(a, d, i);
      }
    }
  });
}

}  // namespace tg::kernels::cpu
