// CPU launcher of dropout (kernels/dropout.h): one Philox block (4 elements) per
// iteration; whole blocks in a threaded, vectorisable loop (lanes are blocks), then the tail.
#include <algorithm>

#include "../dropout.h"

namespace tg::kernels::cpu {

namespace {
template <typename T>
void dropout_typed(const DropoutArgs& a) {
  const T* __restrict__ in = static_cast<const T*>(a.in);
  T* __restrict__ out = static_cast<T*>(a.out);
  const T scale = static_cast<T>(a.scale);
  const uint64_t seed = a.seed, offset = a.offset;
  const uint32_t threshold = a.threshold;
  const int64_t whole = a.n / 4;
#pragma omp parallel for simd schedule(static) if (whole > (1 << 12))
  for (int64_t b = 0; b < whole; ++b) {
    const Philox4x32 r = philox_block(seed, offset, static_cast<uint64_t>(b));
    for (int j = 0; j < 4; ++j)
      out[4 * b + j] = dropout_element(r.v[j], in[4 * b + j], threshold, scale);
  }
  if (whole * 4 < a.n) {
    const Philox4x32 r = philox_block(seed, offset, static_cast<uint64_t>(whole));
    for (int64_t i = whole * 4; i < a.n; ++i)
      out[i] = dropout_element(r.v[i % 4], in[i], threshold, scale);
  }
}
}  // namespace

void dropout(const DropoutArgs& a) {
  TG_ASSERT(a.offset_base == nullptr, "dropout: a device-side offset base on the CPU");
  visit_float_dtype(a.dtype, [&](auto tag) { dropout_typed<decltype(tag)>(a); });
}

}  // namespace tg::kernels::cpu
