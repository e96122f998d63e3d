// CUDA launcher of the strided copy (kernels/copy.h); the CPU twin is kernels/cpu/copy.cpp.
// Both sides are coalesced first (Note [coalesced iteration]).
#include "../copy.h"
#include "../strided.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

template <typename Dst, typename Src>
__global__ void copy_kernel(const Src* __restrict__ src, Dst* __restrict__ dst, CopyArgs a) {
  for (const int64_t i : grid_stride(a.numel)) {
    dst[strided_offset(i, a.ndim, a.sizes, a.dst_strides)] =
        convert_element<Dst>(src[strided_offset(i, a.ndim, a.sizes, a.src_strides)]);
  }
}

}  // namespace

void copy(const CopyArgs& args, void* stream) {
  if (args.numel == 0) return;
  const StridedLayout<2> layout =
      coalesce<2>(args.ndim, args.sizes, {args.dst_strides, args.src_strides});
  CopyArgs coalesced = args;
  coalesced.ndim = layout.ndim;
  for (int d = 0; d < layout.ndim; ++d) {
    coalesced.sizes[d] = layout.sizes[d];
    coalesced.dst_strides[d] = layout.strides[0][d];
    coalesced.src_strides[d] = layout.strides[1][d];
  }
  visit_storage_dtype(args.dst_dtype, [&](auto dst_tag) {
    visit_storage_dtype(args.src_dtype, [&](auto src_tag) {
      using Dst = decltype(dst_tag);
      using Src = decltype(src_tag);
      copy_kernel<Dst, Src><<<grid_for(args.numel), kThreads, 0, as_stream(stream)>>>(
          static_cast<const Src*>(args.src), static_cast<Dst*>(args.dst), coalesced);
      TG_CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace tg::kernels::cuda
