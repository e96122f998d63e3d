// CPU launchers of 2-D pooling (kernels/pool.h): OpenMP over planes (N·C), each plane
// walked row by row with no index division per element. The backward pass scatters each
// output's gradient onto its window (the argmax, for max pooling) instead of the CUDA side's
// gather: a plane belongs to one thread, and every input element still receives its
// contributions in increasing output order, so the sums have the same bits as the gather.
#include "../pool.h"
#include "isa_clones.h"
#include "pool_rows.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace tg::kernels::cpu {

namespace {

// Planes are independent: spread them over the threads when there is enough work.
constexpr int64_t kParallelAbove = 1 << 12;

// max_pool_element's rule for one more candidate: NaN wins and stays, otherwise strictly
// greater wins. The choice is made with bit masks, not a branch or a ternary (which the
// compiler turns back into a branch that random data mispredicts half the time).
template <typename T>
inline void consider(T v, int64_t at, T& best, int64_t& best_at) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const bool take = (best == best) & ((v > best) | (v != v));
  const Bits mask = Bits(0) - static_cast<Bits>(take);
  Bits v_bits, best_bits;
  std::memcpy(&v_bits, &v, sizeof(T));
  std::memcpy(&best_bits, &best, sizeof(T));
  best_bits = (v_bits & mask) | (best_bits & ~mask);
  std::memcpy(&best, &best_bits, sizeof(T));
  const int64_t at_mask = -static_cast<int64_t>(take);
  best_at = (at & at_mask) | (best_at & ~at_mask);
}

// The common 2x2, stride 2, no padding window as straight-line code without branches, one
// pair of rows (rows[0..in_w) and rows[in_w..2·in_w), plane offset `top`) at a time. Same
// result as max_pool_element, same order of candidates.
template <typename T>
void max_pool_2x2_scalar(const T* rows, int64_t in_w, int64_t out_w, int64_t top, T* y,
                         int64_t* argmax) {
  for (int64_t ow = 0; ow < out_w; ++ow) {
    const int64_t w = 2 * ow;
    T best = rows[w];
    int64_t best_at = top + w;
    consider(rows[w + 1], top + w + 1, best, best_at);
    consider(rows[in_w + w], top + in_w + w, best, best_at);
    consider(rows[in_w + w + 1], top + in_w + w + 1, best, best_at);
    y[ow] = best;
    argmax[ow] = best_at;
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TG_POOL_AVX512 1
// Note [pooling lanes]
// The scalar 2x2 window above cost 1.7 ms for the forward of a [128, 64, 14, 14] input, 10%
// of the CNN's CPU step (perf, commit 37fd41c). The CNN's rows are short (14, 7 and 3
// outputs), so a compiler-vectorised row loop never leaves its scalar remainder; this
// version does a whole row of up to 16 outputs per step with AVX-512 masked loads and
// stores: the two input rows' even and odd elements are the window's four candidates, taken
// in max_pool_element's order with its rule (a NaN-seen mask instead of testing the running
// best against itself). Selection computes nothing, so it gives max_pool_2x2's bits; chosen
// at run time where the CPU has AVX-512F.
// GCC 12 warns inside its own AVX-512 headers (their _mm512_undefined_* operands): not ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
__attribute__((target("avx512f"), always_inline)) inline void consider_lanes(
    const __m512& v, const __m512i& at, __m512& best, __m512i& offset, __mmask16& nan_seen) {
  const __mmask16 v_nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  const __mmask16 take =
      static_cast<__mmask16>(_mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | (v_nan & ~nan_seen));
  nan_seen = static_cast<__mmask16>(nan_seen | v_nan);
  best = _mm512_mask_mov_ps(best, take, v);
  offset = _mm512_mask_mov_epi32(offset, take, at);
}

__attribute__((target("avx512f"))) void max_pool_2x2_avx512(const float* rows, int64_t in_w,
                                                            int64_t out_w, int64_t top, float* y,
                                                            int64_t* argmax) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i twice_lane = even;  // 2 * ow within the chunk
  const __m512i right = _mm512_set1_epi32(1), below = _mm512_set1_epi32(int32_t(in_w)),
                below_right = _mm512_set1_epi32(int32_t(in_w + 1));
  {
    const float* r0 = rows;
    const float* r1 = r0 + in_w;
    for (int64_t ow = 0; ow < out_w; ow += 16) {
      const int64_t n = out_w - ow < 16 ? out_w - ow : 16;  // outputs in this chunk
      const __mmask16 out = static_cast<__mmask16>((uint32_t(1) << n) - 1);
      const __mmask16 lo = static_cast<__mmask16>(n >= 8 ? 0xFFFF : (uint32_t(1) << 2 * n) - 1);
      const __mmask16 hi = static_cast<__mmask16>(n > 8 ? (uint32_t(1) << (2 * n - 16)) - 1 : 0);
      const __m512 t0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ow);
      const __m512 t1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * ow + 16);
      const __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ow);
      const __m512 b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * ow + 16);
      __m512 best = _mm512_permutex2var_ps(t0, even, t1);
      __m512i offset = _mm512_setzero_si512();
      __mmask16 nan_seen = _mm512_cmp_ps_mask(best, best, _CMP_UNORD_Q);
      consider_lanes(_mm512_permutex2var_ps(t0, odd, t1), right, best, offset, nan_seen);
      consider_lanes(_mm512_permutex2var_ps(b0, even, b1), below, best, offset, nan_seen);
      consider_lanes(_mm512_permutex2var_ps(b0, odd, b1), below_right, best, offset, nan_seen);
      _mm512_mask_storeu_ps(y + ow, out, best);
      // The plane index: top + 2 * (ow + lane) + offset, below 2^31 past `top` (is_plain_2x2).
      const __m512i within = _mm512_add_epi32(_mm512_add_epi32(twice_lane, offset),
                                              _mm512_set1_epi32(int32_t(2 * ow)));
      const __m512i base = _mm512_set1_epi64(top);
      int64_t* at = argmax + ow;
      _mm512_mask_storeu_epi64(
          at, static_cast<__mmask8>(out & 0xFF),
          _mm512_add_epi64(base, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(within))));
      _mm512_mask_storeu_epi64(
          at + 8, static_cast<__mmask8>(out >> 8),
          _mm512_add_epi64(base, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(within, 1))));
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// Also every window inside the input (ceil_mode can add a last, partial one), and rows short
// enough for 32-bit offsets (Note [pooling lanes]).
bool is_plain_2x2(const Pool2dArgs& a) {
  return a.kernel_h == 2 && a.kernel_w == 2 && a.stride_h == 2 && a.stride_w == 2 && a.pad_h == 0 &&
         a.pad_w == 0 && a.dil_h == 1 && a.dil_w == 1 && 2 * a.out_h <= a.in_h &&
         2 * a.out_w <= a.in_w && a.in_w < (int64_t(1) << 30);
}

}  // namespace

void max_pool_2x2_rows(const float* rows, int64_t in_w, int64_t out_w, int64_t top, float* y,
                       int64_t* argmax) {
#ifdef TG_POOL_AVX512
  if (cpu_has_avx512f()) return max_pool_2x2_avx512(rows, in_w, out_w, top, y, argmax);
#endif
  max_pool_2x2_scalar(rows, in_w, out_w, top, y, argmax);
}
void max_pool_2x2_rows(const double* rows, int64_t in_w, int64_t out_w, int64_t top, double* y,
                       int64_t* argmax) {
  max_pool_2x2_scalar(rows, in_w, out_w, top, y, argmax);
}

void pool2d_forward(const PoolForwardArgs& args) {
  const Pool2dArgs& a = args.shape;
  const int64_t in_plane = a.in_h * a.in_w, out_plane = a.out_h * a.out_w;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(args.in);
    T* out = static_cast<T*>(args.out);
#pragma omp parallel for schedule(static) if (a.planes * out_plane > kParallelAbove)
    for (int64_t p = 0; p < a.planes; ++p) {
      const T* plane = in + p * in_plane;
      T* y = out + p * out_plane;
      int64_t* argmax = args.is_max ? args.argmax + p * out_plane : nullptr;
      if (args.is_max && is_plain_2x2(a)) {
        for (int64_t oh = 0; oh < a.out_h; ++oh) {
          const int64_t top = 2 * oh * a.in_w;
          max_pool_2x2_rows(plane + top, a.in_w, a.out_w, top, y + oh * a.out_w,
                            argmax + oh * a.out_w);
        }
        continue;
      }
      for (int64_t oh = 0; oh < a.out_h; ++oh) {
        for (int64_t ow = 0; ow < a.out_w; ++ow) {
          const int64_t o = oh * a.out_w + ow;
          y[o] = args.is_max ? max_pool_element(a, plane, oh, ow, &argmax[o])
                             : avg_pool_element(a, plane, oh, ow);
        }
      }
    }
  });
}

void pool2d_backward(const PoolBackwardArgs& args) {
  const Pool2dArgs& a = args.shape;
  const int64_t in_plane = a.in_h * a.in_w, out_plane = a.out_h * a.out_w;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* grad = static_cast<const T*>(args.grad);
    T* grad_in = static_cast<T*>(args.grad_in);
#pragma omp parallel for schedule(static) if (a.planes * in_plane > kParallelAbove)
    for (int64_t p = 0; p < a.planes; ++p) {
      T* dx = grad_in + p * in_plane;
      const T* g = grad + p * out_plane;
      for (int64_t i = 0; i < in_plane; ++i) dx[i] = T(0);
      if (args.is_max) {
        const int64_t* argmax = args.argmax + p * out_plane;
        for (int64_t o = 0; o < out_plane; ++o) dx[argmax[o]] += g[o];
        continue;
      }
      for (int64_t oh = 0; oh < a.out_h; ++oh) {
        const int64_t h0 = window_start(oh, a.stride_h, a.pad_h);
        for (int64_t ow = 0; ow < a.out_w; ++ow) {
          const int64_t w0 = window_start(ow, a.stride_w, a.pad_w);
          const T share = g[oh * a.out_w + ow] / avg_pool_divisor<T>(a, oh, ow);
          for (int64_t h = h0 < 0 ? 0 : h0; h < h0 + a.kernel_h && h < a.in_h; ++h) {
            for (int64_t w = w0 < 0 ? 0 : w0; w < w0 + a.kernel_w && w < a.in_w; ++w) {
              dx[h * a.in_w + w] += share;
            }
          }
        }
      }
    }
  });
}

}  // namespace tg::kernels::cpu
