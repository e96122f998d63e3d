// CUDA launchers of the elementwise ops (kernels/elementwise.h); the CPU twin is
// kernels/cpu/elementwise.cpp. Grid-stride loops, one element per thread per step; strided
// operands are coalesced first (Note [coalesced iteration]), so each element divides once
// per remaining dimension.
#include "../elementwise.h"
#include "../strided.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

// `out` may alias `x` exactly (clip_grad_value_ clamps in place), so neither is __restrict__.
template <typename T>
__global__ void unary_kernel(const T* x, T* out, UnaryArgs args) {
  const T a = static_cast<T>(args.a), b = static_cast<T>(args.b);
  for (const int64_t i : grid_stride(args.numel)) {
    out[i] = unary_element(args.op, x[i], a, b);
  }
}

template <typename T>
__global__ void unary_backward_kernel(const T* __restrict__ x, const T* __restrict__ grad,
                                      T* __restrict__ out, UnaryArgs args) {
  const T a = static_cast<T>(args.a), b = static_cast<T>(args.b);
  for (const int64_t i : grid_stride(args.numel)) {
    out[i] = unary_backward_element(args.op, x[i], grad[i], a, b);
  }
}

// `out` may alias `a` exactly (in-place accumulation), so neither is __restrict__.
template <typename T>
__global__ void binary_kernel(const T* a, const T* b, T* out, BinaryArgs args) {
  for (const int64_t i : grid_stride(args.numel)) {
    const T av = a[strided_offset(i, args.ndim, args.sizes, args.a.strides)];
    const T bv = b[strided_offset(i, args.ndim, args.sizes, args.b.strides)];
    out[strided_offset(i, args.ndim, args.sizes, args.out_strides)] =
        binary_element(args.op, av, bv);
  }
}

template <typename T>
__global__ void where_kernel(const uint8_t* __restrict__ cond, const T* __restrict__ a,
                             const T* __restrict__ b, T* __restrict__ out, WhereArgs args) {
  for (const int64_t i : grid_stride(args.numel)) {
    const bool take_a = cond[strided_offset(i, args.ndim, args.sizes, args.cond.strides)] != 0;
    out[i] = take_a ? a[strided_offset(i, args.ndim, args.sizes, args.a.strides)]
                    : b[strided_offset(i, args.ndim, args.sizes, args.b.strides)];
  }
}

}  // namespace

void unary(const UnaryArgs& args, void* stream) {
  if (args.numel == 0) return;
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    unary_kernel<T><<<grid_for(args.numel), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.x), static_cast<T*>(args.out), args);
    TG_CUDA_CHECK_LAUNCH();
  });
}

void unary_backward(const UnaryArgs& args, void* stream) {
  if (args.numel == 0) return;
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    unary_backward_kernel<T><<<grid_for(args.numel), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.x), static_cast<const T*>(args.grad), static_cast<T*>(args.out),
        args);
    TG_CUDA_CHECK_LAUNCH();
  });
}

void binary(const BinaryArgs& args, void* stream) {
  if (args.numel == 0) return;
  const StridedLayout<3> layout =
      coalesce<3>(args.ndim, args.sizes, {args.out_strides, args.a.strides, args.b.strides});
  BinaryArgs coalesced = args;
  coalesced.ndim = layout.ndim;
  for (int d = 0; d < layout.ndim; ++d) {
    coalesced.sizes[d] = layout.sizes[d];
    coalesced.out_strides[d] = layout.strides[0][d];
    coalesced.a.strides[d] = layout.strides[1][d];
    coalesced.b.strides[d] = layout.strides[2][d];
  }
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    binary_kernel<T><<<grid_for(args.numel), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.a.data), static_cast<const T*>(args.b.data),
        static_cast<T*>(args.out), coalesced);
    TG_CUDA_CHECK_LAUNCH();
  });
}

void where(const WhereArgs& args, void* stream) {
  if (args.numel == 0) return;
  // out is contiguous: coalescing keeps the row-major order, so out[i] stays right.
  const StridedLayout<3> layout =
      coalesce<3>(args.ndim, args.sizes, {args.cond.strides, args.a.strides, args.b.strides});
  WhereArgs coalesced = args;
  coalesced.ndim = layout.ndim;
  for (int d = 0; d < layout.ndim; ++d) {
    coalesced.sizes[d] = layout.sizes[d];
    coalesced.cond.strides[d] = layout.strides[0][d];
    coalesced.a.strides[d] = layout.strides[1][d];
    coalesced.b.strides[d] = layout.strides[2][d];
  }
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    where_kernel<T><<<grid_for(args.numel), kThreads, 0, as_stream(stream)>>>(
        static_cast<const uint8_t*>(args.cond.data), static_cast<const T*>(args.a.data),
        static_cast<const T*>(args.b.data), static_cast<T*>(args.out), coalesced);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
