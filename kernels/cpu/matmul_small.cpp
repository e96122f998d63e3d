// Small float32 products by register tiles (kernels/cpu/matmul_small.h).
#include "matmul_small.h"

#include <algorithm>
#include <cstdint>

#include "isa_clones.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TG_SMALL_AVX512 1
#endif

namespace tg::kernels::cpu::small_product {

// Note [small products]
// oneDNN's sgemm JIT-compiles every one of its kernels on its first call: 47 ms on 2 cores of an
// AMD EPYC (Zen 4), in the first training step. In the MNIST CNN its only products were the
// last layer's (10 outputs: dx = g·W of 128x256x10 and dW = gᵀ·x of 10x256x128, ~330k
// multiply-adds each; fc1's gradient takes the sparse rows product), so a 6,000-image run paid
// those 47 ms (~3% of it) for two products of ~5 us a step. A product of fewer than kMaxWork
// multiply-adds is summed here instead: C's rows kRows at a time, 64 columns (four AVX-512
// registers) at a time, B's tile row loaded once for the kRows rows; each element's terms in k
// order by FMA from +0, then C = alpha·sum + beta·C (beta = 0 reads nothing of C). That is the
// order sgemm took at these shapes: the MNIST runs keep their bits
// (tests/unit/matmul_small_test.cpp compares against a float32 FMA loop in that order). Each
// element is summed by one thread, so the bits do not depend on the thread count (sgemm's did for
// 1x784x512 on 2 threads). Products of kSplitWork multiply-adds or more share their tiles among the
// threads; smaller ones stay on the calling thread (a parallel region costs more than they do). C
// narrower than one register (kMinColumns) stays on sgemm: most lanes would idle, and sgemm's
// matrix-vector kernels sum in another order (32x1x32 gave other bits, which sent rnn_gradients'
// clipped run elsewhere). Measured on that EPYC (throwaway /tmp/tb/small.cpp, best of 200, 2
// threads): 128x256x10 5.4-5.5 against sgemm's 6.4-6.7 us, 10x256x128 (beta = 1) 4.7
// against 5.0-5.2, 128x10x256 6.0-6.3 against 7.8-8.3, 1x784x512 13.6-15.0 against 14.0-15.3; on
// one thread 0.84-1.13x sgemm's time. A 6,000-image CNN run (alternating with the previous library,
// eight runs each): median 1.27 -> 1.23 s, fastest 1.19
// -> 1.17 s.

#ifdef TG_SMALL_AVX512

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace {

constexpr int kRows = 4, kVectors = 4;
// Products of at least kSplitWork multiply-adds share their tiles among the threads.
constexpr int64_t kSplitWork = int64_t(1) << 16;

__mmask16 first_lanes(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1u);
}

// C[r0, + R rows; c0, + V·16 columns, the last vector's lanes `last`).
template <int R, int V>
__attribute__((target("avx512f"))) void tile(const MatmulArgs& g, int64_t r0, int64_t c0,
                                             __mmask16 last) {
  const float* a = static_cast<const float*>(g.a);
  const float* b = static_cast<const float*>(g.b) + c0;
  float* c = static_cast<float*>(g.c) + r0 * g.ldc + c0;
  // op(A)[r, k] is a[r·row_step + k·k_step].
  const int64_t row_step = g.trans_a ? 1 : g.lda, k_step = g.trans_a ? g.lda : 1;
  const float* a0 = a + r0 * row_step;
  __m512 acc[R][V];  // every loop over i and v unrolled, so that acc stays in registers
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[i][v] = _mm512_setzero_ps();
  const int64_t depth = g.k, ldb = g.ldb;
  for (int64_t k = 0; k < depth; ++k) {
    __m512 row[V];
#pragma GCC unroll 4
    for (int v = 0; v < V - 1; ++v) row[v] = _mm512_loadu_ps(b + k * ldb + 16 * v);
    row[V - 1] = _mm512_maskz_loadu_ps(last, b + k * ldb + 16 * (V - 1));
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) {
      const __m512 value = _mm512_set1_ps(a0[i * row_step + k * k_step]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(value, row[v], acc[i][v]);
    }
  }
  const __m512 alpha = _mm512_set1_ps(static_cast<float>(g.alpha));
  const __m512 beta = _mm512_set1_ps(static_cast<float>(g.beta));
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const __mmask16 lanes = v == V - 1 ? last : __mmask16(0xFFFF);
      float* out = c + i * g.ldc + 16 * v;
      __m512 sum = g.alpha == 1.0 ? acc[i][v] : _mm512_mul_ps(alpha, acc[i][v]);
      if (g.beta != 0.0)
        sum = _mm512_add_ps(sum, _mm512_mul_ps(beta, _mm512_maskz_loadu_ps(lanes, out)));
      _mm512_mask_storeu_ps(out, lanes, sum);
    }
  }
}

// The tile of R rows from r0 and columns from c0 (at most 64).
template <int R>
__attribute__((target("avx512f"))) void rows_tile(const MatmulArgs& g, int64_t r0, int64_t c0) {
  const int64_t width = std::min<int64_t>(16 * kVectors, g.n - c0);
  const int vectors = static_cast<int>((width + 15) / 16);
  const __mmask16 last = first_lanes(width - 16 * (vectors - 1));
  switch (vectors) {
    case 1: tile<R, 1>(g, r0, c0, last); break;
    case 2: tile<R, 2>(g, r0, c0, last); break;
    case 3: tile<R, 3>(g, r0, c0, last); break;
    default: tile<R, kVectors>(g, r0, c0, last); break;
  }
}

// Tile t of C: kRows rows (fewer in the last row of tiles) by 64 columns, row tiles outer.
void product_tile(const MatmulArgs& g, int64_t t) {
  const int64_t col_tiles = (g.n + 16 * kVectors - 1) / (16 * kVectors);
  const int64_t r0 = t / col_tiles * kRows, c0 = t % col_tiles * 16 * kVectors;
  switch (std::min<int64_t>(kRows, g.m - r0)) {
    case 1: rows_tile<1>(g, r0, c0); break;
    case 2: rows_tile<2>(g, r0, c0); break;
    case 3: rows_tile<3>(g, r0, c0); break;
    default: rows_tile<kRows>(g, r0, c0); break;
  }
}

}  // namespace

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // TG_SMALL_AVX512

bool available() {
#ifdef TG_SMALL_AVX512
  return cpu_has_avx512f();
#else
  return false;
#endif
}

bool matmul(const MatmulArgs& g) {
#ifdef TG_SMALL_AVX512
  // alpha = 0 and k = 0 are left to the other paths (C = beta·C, BLAS's rule).
  if (g.dtype != DType::Float32 || g.trans_b || g.batch != 1 || g.alpha == 0.0 || g.k == 0 ||
      g.n < kMinColumns ||
      static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k) >=
          static_cast<double>(kMaxWork) ||
      !available()) {
    return false;
  }
  const int64_t tiles = (g.m + kRows - 1) / kRows * ((g.n + 16 * kVectors - 1) / (16 * kVectors));
  const bool split =
      static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k) >=
      static_cast<double>(kSplitWork);
#pragma omp parallel for schedule(static) if (split && tiles > 1)
  for (int64_t t = 0; t < tiles; ++t) product_tile(g, t);
  return true;
#else
  (void)g;
  return false;
#endif
}

}  // namespace tg::kernels::cpu::small_product
