// The blocked batch norm's transpositions between 16 planes and windows of 16 channels
// (kernels/cpu/batch_norm_windows.h): portable loops, and 16x16 transposes in AVX-512
// registers where the CPU has AVX-512F.
#include "batch_norm_windows.h"

#include <algorithm>

#include "isa_clones.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TG_BN_WINDOWS_AVX512 1
#endif

namespace tg::kernels::cpu::batch_norm_windows {

namespace {

// The loops, compiled per x86-64 level (a clone's ifunc symbol stays inside the library only
// with internal linkage).
TG_ISA_CLONES void windows_loop(const float* planes, int64_t out_plane, float* windows) {
  for (int64_t o = 0; o < out_plane; ++o) {
    for (int64_t c = 0; c < kGroup; ++c) windows[o * kGroup + c] = 0.0f + planes[c * out_plane + o];
  }
}

TG_ISA_CLONES void planes_loop(const float* windows, int64_t out_plane, float* planes) {
  for (int64_t c = 0; c < kGroup; ++c) {
    for (int64_t o = 0; o < out_plane; ++o) planes[c * out_plane + o] = windows[o * kGroup + c];
  }
}

}  // namespace

void to_windows_portable(const float* planes, int64_t out_plane, float* windows) {
  windows_loop(planes, out_plane, windows);
}

void to_planes_portable(const float* windows, int64_t out_plane, float* planes) {
  planes_loop(windows, out_plane, planes);
}

#ifdef TG_BN_WINDOWS_AVX512
namespace {

// GCC 12 warns inside its own AVX-512 headers (their _mm512_undefined_* operands): not ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Note [windows by transposes]
// A window's 16 channels lie 4·out_plane bytes apart in the pooled planes: the portable loop
// (compiled in the batch norm's ISA clones) built each window's vector from 16 scalar inserts,
// ~15% of the backward summary's samples, and the forward's write-out by permutes. Here 16
// windows at a time are one 16x16 transpose in registers: 16 rows of 16 loaded, interleaved
// by floats, then by pairs of floats, then by 128-bit lanes, 16 rows stored; a last part of
// fewer than 16 windows is loaded and stored under a mask. Only moves (and the same 0 + g on
// the way to windows), so the same bits as the loops. The batch norm bench (three CNN shapes,
// warm, 2 threads) went from 1.37 to 1.15 ms forward and 2.51 to 2.20 ms backward.

// Rows r[0..15] of a 16x16 tile transposed: out[i] holds element i of every row.
__attribute__((target("avx512f"), always_inline)) inline void transpose(const __m512* r,
                                                                        __m512* out) {
  // a[2i], a[2i + 1]: rows 2i and 2i + 1 interleaved, per 128-bit lane L their elements 4L and
  // 4L + 1, then 4L + 2 and 4L + 3.
  __m512 a[kGroup], b[kGroup];
  for (int i = 0; i < kGroup / 2; ++i) {
    a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // b[4q + j]: rows 4q..4q + 3 at element 4L + j, per 128-bit lane L.
  for (int q = 0; q < kGroup / 4; ++q) {
    const __m512d lo = _mm512_castps_pd(a[4 * q]), hi = _mm512_castps_pd(a[4 * q + 1]);
    const __m512d lo2 = _mm512_castps_pd(a[4 * q + 2]), hi2 = _mm512_castps_pd(a[4 * q + 3]);
    b[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo, lo2));
    b[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo, lo2));
    b[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi, hi2));
    b[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi, hi2));
  }
  // Element 4L + j of the 16 rows is lane L of b[j], b[4 + j], b[8 + j] and b[12 + j]: a 4x4
  // transpose of 128-bit lanes (0x44 takes lanes 0, 1 of each operand, 0xEE lanes 2, 3; 0x88
  // lanes 0, 2 and 0xDD lanes 1, 3).
  for (int j = 0; j < 4; ++j) {
    const __m512 c0 = _mm512_shuffle_f32x4(b[j], b[4 + j], 0x44);
    const __m512 c1 = _mm512_shuffle_f32x4(b[j], b[4 + j], 0xEE);
    const __m512 c2 = _mm512_shuffle_f32x4(b[8 + j], b[12 + j], 0x44);
    const __m512 c3 = _mm512_shuffle_f32x4(b[8 + j], b[12 + j], 0xEE);
    out[j] = _mm512_shuffle_f32x4(c0, c2, 0x88);
    out[4 + j] = _mm512_shuffle_f32x4(c0, c2, 0xDD);
    out[8 + j] = _mm512_shuffle_f32x4(c1, c3, 0x88);
    out[12 + j] = _mm512_shuffle_f32x4(c1, c3, 0xDD);
  }
}

// The windows o0.. (at most 16) of a part, and their mask.
struct Part {
  int64_t count;
  __mmask16 mask;
};
__attribute__((target("avx512f"), always_inline)) inline Part part(int64_t o0, int64_t out_plane) {
  const int64_t count = std::min(kGroup, out_plane - o0);
  return {count, static_cast<__mmask16>((1u << count) - 1u)};
}

__attribute__((target("avx512f"))) void to_windows_avx512(const float* planes, int64_t out_plane,
                                                          float* windows) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t o0 = 0; o0 < out_plane; o0 += kGroup) {
    const Part p = part(o0, out_plane);
    __m512 rows[kGroup], columns[kGroup];
    for (int64_t c = 0; c < kGroup; ++c)
      rows[c] = _mm512_maskz_loadu_ps(p.mask, planes + c * out_plane + o0);
    transpose(rows, columns);
    for (int64_t o = 0; o < p.count; ++o)
      _mm512_storeu_ps(windows + (o0 + o) * kGroup, _mm512_add_ps(zero, columns[o]));
  }
}

__attribute__((target("avx512f"))) void to_planes_avx512(const float* windows, int64_t out_plane,
                                                         float* planes) {
  for (int64_t o0 = 0; o0 < out_plane; o0 += kGroup) {
    const Part p = part(o0, out_plane);
    __m512 rows[kGroup], columns[kGroup];
    for (int64_t o = 0; o < kGroup; ++o) {
      rows[o] = o < p.count ? _mm512_loadu_ps(windows + (o0 + o) * kGroup) : _mm512_setzero_ps();
    }
    transpose(rows, columns);
    for (int64_t c = 0; c < kGroup; ++c)
      _mm512_mask_storeu_ps(planes + c * out_plane + o0, p.mask, columns[c]);
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace
#endif

bool transposes_available() {
#ifdef TG_BN_WINDOWS_AVX512
  return cpu_has_avx512f();
#else
  return false;
#endif
}

void to_windows(const float* planes, int64_t out_plane, float* windows) {
#ifdef TG_BN_WINDOWS_AVX512
  if (cpu_has_avx512f()) return to_windows_avx512(planes, out_plane, windows);
#endif
  to_windows_portable(planes, out_plane, windows);
}

void to_planes(const float* windows, int64_t out_plane, float* planes) {
#ifdef TG_BN_WINDOWS_AVX512
  if (cpu_has_avx512f()) return to_planes_avx512(windows, out_plane, planes);
#endif
  to_planes_portable(windows, out_plane, planes);
}

}  // namespace tg::kernels::cpu::batch_norm_windows
