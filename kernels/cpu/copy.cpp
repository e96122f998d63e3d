// CPU launcher of the strided copy (kernels/copy.h): OpenMP over elements, with a plain
// loop when both sides are contiguous.
#include "tamegrad/kernels/copy.h"

namespace tg::kernels::cpu {

namespace {

template <typename Dst, typename Src>
void copy_typed(const CopyArgs& a) {
  const Src* src = static_cast<const Src*>(a.src);
  Dst* dst = static_cast<Dst*>(a.dst);
  const int64_t n = a.numel;
  if (is_row_major(a.ndim, a.sizes, a.src_strides) &&
      is_row_major(a.ndim, a.sizes, a.dst_strides)) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) dst[i] = convert_element<Dst>(src[i]);
    return;
  }
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) {
    dst[strided_offset(i, a.ndim, a.sizes, a.dst_strides)] =
        convert_element<Dst>(src[strided_offset(i, a.ndim, a.sizes, a.src_strides)]);
  }
}

}  // namespace

void copy(const CopyArgs& args) {
  if (args.numel == 0) return;
  visit_dtype(args.dst_dtype, [&](auto dst_tag) {
    visit_dtype(args.src_dtype,
                [&](auto src_tag) { copy_typed<decltype(dst_tag), decltype(src_tag)>(args); });
  });
}

}  // namespace tg::kernels::cpu
