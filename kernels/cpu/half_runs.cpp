// Contiguous float <-> half conversion runs (kernels/cpu/half_runs.h).
#include "half_runs.h"

#include "../common.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define TG_HAVE_F16C_RUNS 1
#endif

#include "isa_clones.h"

namespace tg::kernels::cpu {

namespace {

#if TG_HAVE_F16C_RUNS
// CPUID leaf 1, ECX bit 29 (F16C), with AVX usable (its VEX encoding needs the OS's
// support, which __builtin_cpu_supports("avx") checks; Clang's builtin knows no "f16c").
bool have_f16c() {
  static const bool yes = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __builtin_cpu_supports("avx") && __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
  }();
  return yes;
}

__attribute__((target("avx,f16c"))) void f16c_from_float(const float* src, float16* dst,
                                                         int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  for (; i < n; ++i) dst[i] = half_from_float<float16>(src[i]);
}

__attribute__((target("avx,f16c"))) void f16c_to_float(const float16* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) dst[i] = half_to_float(src[i]);
}
#endif

TG_ISA_CLONES void bfloat16_from_float(const float* src, bfloat16* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = half_from_float<bfloat16>(src[i]);
}

TG_ISA_CLONES void bfloat16_to_float(const bfloat16* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = half_to_float(src[i]);
}

}  // namespace

void half_run_from_float(const float* src, float16* dst, int64_t n) {
#if TG_HAVE_F16C_RUNS
  if (have_f16c()) return f16c_from_float(src, dst, n);
#endif
  for (int64_t i = 0; i < n; ++i) dst[i] = half_from_float<float16>(src[i]);
}

void half_run_to_float(const float16* src, float* dst, int64_t n) {
#if TG_HAVE_F16C_RUNS
  if (have_f16c()) return f16c_to_float(src, dst, n);
#endif
  for (int64_t i = 0; i < n; ++i) dst[i] = half_to_float(src[i]);
}

void half_run_from_float(const float* src, bfloat16* dst, int64_t n) {
  bfloat16_from_float(src, dst, n);
}

void half_run_to_float(const bfloat16* src, float* dst, int64_t n) {
  bfloat16_to_float(src, dst, n);
}

void widen_rows(DType dtype, const void* src, int64_t rows, int64_t cols, int64_t ld, float* dst) {
  TG_ASSERT(is_half(dtype), "widen_rows of ", dtype_name(dtype));
  visit_storage_dtype(dtype, [&](auto tag) {
    using Half = decltype(tag);
    if constexpr (is_half_type_v<Half>) {
      const Half* h = static_cast<const Half*>(src);
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 16))
      for (int64_t r = 0; r < rows; ++r) half_run_to_float(h + r * ld, dst + r * cols, cols);
    }
  });
}

}  // namespace tg::kernels::cpu
