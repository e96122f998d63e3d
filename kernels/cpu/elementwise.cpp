// CPU launchers of the elementwise ops (kernels/elementwise.h): OpenMP over elements,
// with a contiguous fast path for binary ops.
#include "tamegrad/kernels/elementwise.h"

namespace tg::kernels::cpu {

namespace {

constexpr int64_t kParallelAbove = 1 << 15;

}  // namespace

void unary(const UnaryArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(args.x);
    T* out = static_cast<T*>(args.out);
    const T a = static_cast<T>(args.a), b = static_cast<T>(args.b);
#pragma omp parallel for schedule(static) if (args.numel > kParallelAbove)
    for (int64_t i = 0; i < args.numel; ++i) out[i] = unary_element(args.op, x[i], a, b);
  });
}

void unary_backward(const UnaryArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(args.x);
    const T* grad = static_cast<const T*>(args.grad);
    T* out = static_cast<T*>(args.out);
    const T a = static_cast<T>(args.a), b = static_cast<T>(args.b);
#pragma omp parallel for schedule(static) if (args.numel > kParallelAbove)
    for (int64_t i = 0; i < args.numel; ++i) {
      out[i] = unary_backward_element(args.op, x[i], grad[i], a, b);
    }
  });
}

void binary(const BinaryArgs& args) {
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* a = static_cast<const T*>(args.a.data);
    const T* b = static_cast<const T*>(args.b.data);
    T* out = static_cast<T*>(args.out);
    if (is_row_major(args.ndim, args.sizes, args.out_strides) &&
        is_row_major(args.ndim, args.sizes, args.a.strides) &&
        is_row_major(args.ndim, args.sizes, args.b.strides)) {
#pragma omp parallel for schedule(static) if (args.numel > kParallelAbove)
      for (int64_t i = 0; i < args.numel; ++i) out[i] = binary_element(args.op, a[i], b[i]);
      return;
    }
#pragma omp parallel for schedule(static) if (args.numel > kParallelAbove)
    for (int64_t i = 0; i < args.numel; ++i) {
      const T av = a[strided_offset(i, args.ndim, args.sizes, args.a.strides)];
      const T bv = b[strided_offset(i, args.ndim, args.sizes, args.b.strides)];
      out[strided_offset(i, args.ndim, args.sizes, args.out_strides)] =
          binary_element(args.op, av, bv);
    }
  });
}

void where(const WhereArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto* cond = static_cast<const uint8_t*>(args.cond.data);
    const T* a = static_cast<const T*>(args.a.data);
    const T* b = static_cast<const T*>(args.b.data);
    T* out = static_cast<T*>(args.out);
#pragma omp parallel for schedule(static) if (args.numel > kParallelAbove)
    for (int64_t i = 0; i < args.numel; ++i) {
      const bool take_a = cond[strided_offset(i, args.ndim, args.sizes, args.cond.strides)] != 0;
      out[i] = take_a ? a[strided_offset(i, args.ndim, args.sizes, args.a.strides)]
                      : b[strided_offset(i, args.ndim, args.sizes, args.b.strides)];
    }
  });
}

}  // namespace tg::kernels::cpu
