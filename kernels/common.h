// What every kernel file shares: the host/device qualifier, the strided-index helper,
// exactly rounded arithmetic, and dtype dispatch.
//
// Kernels take raw pointers, sizes, strides and a stream; of core they know only the
// leaf headers dtype.h and error.h, never Tensor or autograd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../foundation/dtype.h"
#include "../foundation/error.h"
#include "half.h"
#include "host_device.h"

namespace tg::kernels {

// The most dimensions a strided kernel handles; core checks tensors against it.
constexpr int kMaxDims = 8;

// Note [scratch memory]: a launcher that needs temporary device memory (cuDNN's
// workspace, batchnorm's per-chunk partial sums) takes it from the caller through a
// ScratchAllocator, which core fills with its own allocator (ops::scratch_allocator): so
// out-of-memory errors name the device and the size, the tests' allocation guards surround
// scratch too, and a free during a CUDA-graph capture follows Note [frees during graph
// capture]. Kernels stay free of Storage. CPU launchers take none: the few that need
// temporary memory (conv2d's column buffers) keep thread-local vectors that only grow.
struct ScratchAllocator {
  // Memory of `bytes` on the launch's device, usable on its stream; *handle is what
  // release takes. Throws tg::Error when the allocation fails.
  void* (*allocate)(void* context, size_t bytes, void** handle) = nullptr;
  void (*release)(void* context, void* handle) = nullptr;  // must not throw
  void* context = nullptr;
};

// Offset (in elements) of the `linear`-th element, in row-major order, of a tensor with
// `sizes` and `strides` (elements).
TG_HOST_DEVICE int64_t strided_offset(int64_t linear, int ndim, const int64_t* sizes,
                                      const int64_t* strides) {
  int64_t offset = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    const int64_t i = linear % sizes[d];
    linear /= sizes[d];
    offset += i * strides[d];
  }
  return offset;
}

// Whether `strides` walk `sizes` in plain row-major order (size-1 dims may have any
// stride), so linear index i is element i.
inline bool is_row_major(int ndim, const int64_t* sizes, const int64_t* strides) {
  int64_t expected = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    if (sizes[d] != 1 && strides[d] != expected) return false;
    expected *= sizes[d];
  }
  return true;
}

// Note [exact arithmetic]
// Values that must be bit-identical on CPU and GPU (random numbers, arange) are computed
// with these: one IEEE round-to-nearest per operation, never fused into an FMA. nvcc
// contracts a*b+c into an FMA by default, so the device side uses the _rn intrinsics,
// which it never contracts; the host side is built with -ffp-contract=off.
TG_HOST_DEVICE double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
TG_HOST_DEVICE double add_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

// Calls f(T{}) with T the C++ type of `dtype`, one of the dtypes ops compute in; a half
// dtype (Note [half dtypes]) is an error that names it (front-ends check first and name the op).
template <typename F>
void visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Float32: f(float{}); return;
    case DType::Float64: f(double{}); return;
    case DType::Int64: f(int64_t{}); return;
    case DType::UInt8: f(uint8_t{}); return;
    case DType::BFloat16:
    case DType::Float16: break;
  }
  TG_THROW("no ", dtype_name(dtype),
           " kernel for this op (Note [half dtypes]): convert with "
           ".to(DType::Float32), or run matmul/conv2d under tg::autocast");
}

// visit_dtype with the half dtypes too (bfloat16, float16 from foundation/dtype.h): for the
// kernels that only move, convert or store values (copy, fill, gather, index_select).
template <typename F>
void visit_storage_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::BFloat16: f(bfloat16{}); return;
    case DType::Float16: f(float16{}); return;
    default: visit_dtype(dtype, f); return;
  }
}

// Calls f(T{}) with T float or double; other dtypes are an internal error (front-ends
// check dtypes before launching).
template <typename F>
void visit_float_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Float32: f(float{}); return;
    case DType::Float64: f(double{}); return;
    case DType::BFloat16:
    case DType::Float16:
      TG_THROW("no ", dtype_name(dtype),
               " kernel for this op (Note [half dtypes]): convert with "
               ".to(DType::Float32), or run matmul/conv2d under tg::autocast");
    default: break;
  }
  TG_ASSERT(false, "a floating-point kernel launched on ", dtype_name(dtype));
}

// Conversion between element types, defined for every input so both devices agree:
// float -> integer truncates toward zero, NaN becomes 0, values past int64's range
// saturate, and uint8 keeps the low 8 bits of that int64 (as PyTorch does on x86). The half
// types go through float (Note [half conversions]), as PyTorch's do: a half is widened
// exactly, and anything else becomes a float first and is then rounded to the half.
template <typename To, typename From>
TG_HOST_DEVICE To convert_element(From x) {
  if constexpr (std::is_same_v<To, From>) {
    return x;
  } else if constexpr (is_half_type_v<From>) {
    return convert_element<To>(half_to_float(x));
  } else if constexpr (is_half_type_v<To>) {
    return half_from_float<To>(static_cast<float>(x));
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if (!(x == x)) return To(0);
    if (x >= From(9.2233720368547758e18)) return To(INT64_MAX);
    if (x <= From(-9.2233720368547758e18)) return To(INT64_MIN);
    return To(static_cast<uint64_t>(static_cast<int64_t>(x)));
  } else if constexpr (std::is_same_v<To, uint8_t> && std::is_integral_v<From>) {
    return To(static_cast<uint64_t>(x) & 0xFFu);
  } else {
    return static_cast<To>(x);
  }
}

}  // namespace tg::kernels
