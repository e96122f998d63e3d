// CUDA launcher of the strided copy (kernels/copy.h); the CPU twin is kernels/cpu/copy.cpp.
#include "tamegrad/kernels/copy.h"
#include "tamegrad/kernels/cuda/launch.h"

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
  visit_dtype(args.dst_dtype, [&](auto dst_tag) {
    visit_dtype(args.src_dtype, [&](auto src_tag) {
      using Dst = decltype(dst_tag);
      using Src = decltype(src_tag);
      copy_kernel<Dst, Src><<<grid_for(args.numel), kThreads, 0, as_stream(stream)>>>(
          static_cast<const Src*>(args.src), static_cast<Dst*>(args.dst), args);
      TG_CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace tg::kernels::cuda
