// CPU launcher of the strided copy (kernels/copy.h): coalesced runs
// (Note [coalesced iteration]), with a plain loop for a run contiguous on both sides.
#include "../copy.h"

#include "half_runs.h"
#include "strided_loop.h"

namespace tg::kernels::cpu {

namespace {

template <typename Dst, typename Src>
void copy_typed(const CopyArgs& a) {
  const StridedLayout<2> layout = coalesce<2>(a.ndim, a.sizes, {a.dst_strides, a.src_strides});
  const int inner = layout.ndim - 1;
  const int64_t sd = layout.strides[0][inner], ss = layout.strides[1][inner];
  const Src* src = static_cast<const Src*>(a.src);
  Dst* dst = static_cast<Dst*>(a.dst);
  for_each_run(layout, [&](const int64_t* at, int64_t count) {
    Dst* d = dst + at[0];
    const Src* s = src + at[1];
    if (sd == 1 && ss == 1) {
      if constexpr (std::is_same_v<Src, float> && is_half_type_v<Dst>) {
        half_run_from_float(s, d, count);
      } else if constexpr (is_half_type_v<Src> && std::is_same_v<Dst, float>) {
        half_run_to_float(s, d, count);
      } else {
        for (int64_t i = 0; i < count; ++i) d[i] = convert_element<Dst>(s[i]);
      }
    } else {
      for (int64_t i = 0; i < count; ++i) d[i * sd] = convert_element<Dst>(s[i * ss]);
    }
  });
}

}  // namespace

void copy(const CopyArgs& args) {
  if (args.numel == 0) return;
  visit_storage_dtype(args.dst_dtype, [&](auto dst_tag) {
    visit_storage_dtype(args.src_dtype, [&](auto src_tag) {
      copy_typed<decltype(dst_tag), decltype(src_tag)>(args);
    });
  });
}

}  // namespace tg::kernels::cpu
