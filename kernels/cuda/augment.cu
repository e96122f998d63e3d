// CUDA launcher of the augmentation (kernels/augment.h); the CPU twin is
// kernels/cpu/augment.cpp. One thread per output element, each computing its sample's
// draw (one Philox block: cheaper than a second pass to share it).
#include "../augment.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {
template <typename T>
__global__ void augment_kernel(AugmentArgs a, int64_t total) {
  const int64_t per_sample = a.c * a.h * a.w;
  T* __restrict__ out = static_cast<T*>(a.out);
  for (const int64_t i : grid_stride(total)) {
    out[i] = augment_element<T>(a, augment_draw(a, i / per_sample), i);
  }
}
}  // namespace

void augment(const AugmentArgs& a, void* stream) {
  const int64_t total = a.n * a.c * a.h * a.w;
  if (total == 0) return;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    augment_kernel<T><<<grid_for(total), kThreads, 0, as_stream(stream)>>>(a, total);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
