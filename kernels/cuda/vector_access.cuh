// 16-byte loads and stores for CUDA kernels (launchers only): W consecutive elements of a
// float or double buffer, W = 4 as one float4 or two double2, W = 1 as a plain access.
// A warp of scalar loads over 4-element groups touches each 32-byte sector four times; one
// vector load per thread covers whole sectors and issues a quarter of the instructions.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace tg::kernels::cuda {

// Whether every pointer given (null ones are skipped) is 16-byte aligned.
inline bool aligned_for_four(std::initializer_list<const void*> pointers) {
  for (const void* p : pointers) {
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
  }
  return true;
}

template <int W, typename T>
__device__ __forceinline__ void load(const T* __restrict__ src, T (&dst)[W]) {
  static_assert(W == 1 || W == 4, "one element or a 16-byte-aligned group of four");
  if constexpr (W == 1) {
    dst[0] = *src;
  } else if constexpr (sizeof(T) == 4) {
    const float4 v = *reinterpret_cast<const float4*>(src);
    dst[0] = v.x, dst[1] = v.y, dst[2] = v.z, dst[3] = v.w;
  } else {
    const double2 a = reinterpret_cast<const double2*>(src)[0],
                  b = reinterpret_cast<const double2*>(src)[1];
    dst[0] = a.x, dst[1] = a.y, dst[2] = b.x, dst[3] = b.y;
  }
}

template <int W, typename T>
__device__ __forceinline__ void store(T* __restrict__ dst, const T (&src)[W]) {
  static_assert(W == 1 || W == 4, "one element or a 16-byte-aligned group of four");
  if constexpr (W == 1) {
    *dst = src[0];
  } else if constexpr (sizeof(T) == 4) {
    *reinterpret_cast<float4*>(dst) = make_float4(src[0], src[1], src[2], src[3]);
  } else {
    reinterpret_cast<double2*>(dst)[0] = make_double2(src[0], src[1]);
    reinterpret_cast<double2*>(dst)[1] = make_double2(src[2], src[3]);
  }
}

}  // namespace tg::kernels::cuda
