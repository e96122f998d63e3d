// Float32 products by the nonzero entries of op(A)'s rows (kernels/cpu/matmul_sparse.h).
#include "matmul_sparse.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "isa_clones.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TG_SPARSE_AVX512 1
#endif

namespace tg::kernels::cpu::sparse_rows {

// Note [sparse rows product]
// A Linear behind a ReLU and a dropout gets a gradient that is mostly zeros: in the MNIST MLP
// (784-512-256-10, dropout 0.2) 59% of the first hidden layer's gradient entries are zero at
// the first step and 75-83% after an epoch (the second layer's: 59%, then 70-74%). Its backward
// products take that gradient as the left operand: dW = gᵀ·x and dx = g·W. A dense GEMM
// multiplies the zeros too; here each row r of op(A) is first listed as its nonzero entries
// (k, a) in increasing k, and C[r, :] = alpha · Σ a · B[k, :] + beta · C[r, :] is summed in that
// order, 64 columns of C (four AVX-512 registers) at a time, one load of B per FMA, two rows
// side by side (their FMA chains independent: 1.1-1.3x one row at a time). A row's sum is made
// by one thread in the same order whatever the thread count, so the bits do not depend on it;
// threads take contiguous rows of about equal entry counts.
// Where it is taken: a dense GEMM runs at the FMA peak with several FMAs per load, this path at
// one load per FMA, so it wins on mostly-zero operands only. Measured on 2 cores of an AMD EPYC
// (Zen 4), 2 threads, 25% nonzero, best of 50 each, ranges over four sittings (throwaway
// /tmp/tb/spmm_lib.cpp), oneDNN's sgemm against this path:
//   dW1 512x784x128 486-513 against 261-386 us;  dx2 128x512x256 162-168 against 127-151;
//   dW2 256x512x128 168-192 against 131-156;     the CNN's fc1 dW 256x1152x128 339-376 against
//   321-323, dx 128x1152x256 347-352 against 234-246.
// At 30% nonzero 0.95-1.44x sgemm's speed, at 35-40% 0.74-1.45x (the machine's noise is as
// large as the difference): hence kMaxDensity; kMinWork leaves small products, not worth the
// listing, to the dense paths (Note [small products] first). The MNIST MLP's 3 epochs on one
// thread: 5.43-5.70 s against 5.81-6.51 s without this path. Only measured on that CPU: one whose
// FMAs are twice as wide per load (an Intel AVX-512 core) may want another bound. Same values as
// the dense product: a skipped term is a·B[k, j] with a = ±0, which adds ±0 to a sum that starts at
// +0, unless B[k, j] is infinite or NaN (0·inf is NaN). So B is checked first and a B with any
// non-finite element goes to the dense product; a NaN or an infinity in A is nonzero and is summed.
// Only the order of the nonzero terms differs from the dense product's.

namespace {

// op(A)'s nonzero entries, row by row: row r's are [start[r], start[r + 1]).
struct Rows {
  std::vector<int64_t> start;
  std::vector<int32_t> index;
  std::vector<float> value;
};

#ifdef TG_SPARSE_AVX512

// GCC 12 warns inside its own AVX-512 headers (their _mm512_undefined_* operands): not ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

constexpr int kVectors = 4;  // registers of C per row tile: 64 columns

__mmask16 first_lanes(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1u);
}

// The nonzero count of each row of op(A) into count[r0, r1).
__attribute__((target("avx512f"))) void count_rows(const MatmulArgs& g, int64_t r0, int64_t r1,
                                                   int64_t* count) {
  const float* a = static_cast<const float*>(g.a);
  const __m512 zero = _mm512_setzero_ps();
  if (!g.trans_a) {  // row r is a[r·lda, + k)
    for (int64_t r = r0; r < r1; ++r) {
      int64_t n = 0;
      for (int64_t k = 0; k < g.k; k += 16) {
        const __mmask16 lanes = first_lanes(g.k - k);
        const __m512 v = _mm512_maskz_loadu_ps(lanes, a + r * g.lda + k);
        n += __builtin_popcount(_mm512_mask_cmp_ps_mask(lanes, v, zero, _CMP_NEQ_UQ));
      }
      count[r] = n;
    }
    return;
  }
  // Row r is column r of a (k rows of lda): 16 rows at a time down the columns.
  const __m512i one = _mm512_set1_epi32(1);
  for (int64_t r = r0; r < r1; r += 16) {
    const __mmask16 lanes = first_lanes(r1 - r);
    __m512i n = _mm512_setzero_si512();
    for (int64_t k = 0; k < g.k; ++k) {
      const __m512 v = _mm512_maskz_loadu_ps(lanes, a + k * g.lda + r);
      n = _mm512_mask_add_epi32(n, _mm512_mask_cmp_ps_mask(lanes, v, zero, _CMP_NEQ_UQ), n, one);
    }
    alignas(64) int32_t out[16];
    _mm512_store_si512(out, n);
    for (int64_t j = 0; j < std::min<int64_t>(16, r1 - r); ++j) count[r + j] = out[j];
  }
}

// Rows r0..r1 - 1's entries into rows.index/value from rows.start.
__attribute__((target("avx512f"))) void list_rows(const MatmulArgs& g, int64_t r0, int64_t r1,
                                                  Rows& rows) {
  const float* a = static_cast<const float*>(g.a);
  const __m512 zero = _mm512_setzero_ps();
  if (!g.trans_a) {
    const __m512i step = _mm512_set1_epi32(16);
    for (int64_t r = r0; r < r1; ++r) {
      int64_t at = rows.start[r];
      __m512i k_lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
      for (int64_t k = 0; k < g.k; k += 16, k_lanes = _mm512_add_epi32(k_lanes, step)) {
        const __mmask16 lanes = first_lanes(g.k - k);
        const __m512 v = _mm512_maskz_loadu_ps(lanes, a + r * g.lda + k);
        const __mmask16 nonzero = _mm512_mask_cmp_ps_mask(lanes, v, zero, _CMP_NEQ_UQ);
        const int n = __builtin_popcount(nonzero);
        const __mmask16 first = first_lanes(n);
        // Compressed in a register, then stored under a mask (a compressing store to memory
        // is microcoded on some CPUs).
        _mm512_mask_storeu_ps(rows.value.data() + at, first, _mm512_maskz_compress_ps(nonzero, v));
        _mm512_mask_storeu_epi32(rows.index.data() + at, first,
                                 _mm512_maskz_compress_epi32(nonzero, k_lanes));
        at += n;
      }
    }
    return;
  }
  thread_local std::vector<int64_t> at;  // each thread's write positions, kept between calls
  at.assign(rows.start.begin() + r0, rows.start.begin() + r1);
  for (int64_t k = 0; k < g.k; ++k) {
    const float* row = a + k * g.lda;
    for (int64_t r = r0; r < r1; r += 16) {
      const __mmask16 lanes = first_lanes(r1 - r);
      uint32_t nonzero =
          _mm512_mask_cmp_ps_mask(lanes, _mm512_maskz_loadu_ps(lanes, row + r), zero, _CMP_NEQ_UQ);
      while (nonzero != 0) {
        const int j = __builtin_ctz(nonzero);
        nonzero &= nonzero - 1;
        int64_t& p = at[r + j - r0];
        rows.index[p] = static_cast<int32_t>(k);
        rows.value[p] = row[r + j];
        ++p;
      }
    }
  }
}

// Whether rows [k0, k1) of B are all finite.
__attribute__((target("avx512f"))) bool finite_rows(const MatmulArgs& g, int64_t k0, int64_t k1) {
  const float* b = static_cast<const float*>(g.b);
  const __m512i exponent = _mm512_set1_epi32(0x7f800000);
  __mmask16 bad = 0;
  for (int64_t k = k0; k < k1; ++k) {
    for (int64_t j = 0; j < g.n; j += 16) {
      const __mmask16 lanes = first_lanes(g.n - j);
      const __m512i v = _mm512_maskz_loadu_epi32(lanes, b + k * g.ldb + j);
      bad |= _mm512_mask_cmpeq_epi32_mask(lanes, _mm512_and_si512(v, exponent), exponent);
    }
  }
  return bad == 0;
}

// A row's register tile: its entries summed into acc in order, then written to C.
template <int V>
struct Tile {
  __m512 acc[V];
  __attribute__((target("avx512f"), always_inline)) inline void clear() {
    for (int v = 0; v < V; ++v) acc[v] = _mm512_setzero_ps();
  }
  __attribute__((target("avx512f"), always_inline)) inline void add(float value, const float* row,
                                                                    __mmask16 last) {
    const __m512 a = _mm512_set1_ps(value);
    for (int v = 0; v < V - 1; ++v)
      acc[v] = _mm512_fmadd_ps(a, _mm512_loadu_ps(row + 16 * v), acc[v]);
    acc[V - 1] = _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(last, row + 16 * (V - 1)), acc[V - 1]);
  }
  // C = alpha·acc + beta·C; beta = 0 reads nothing of C, as BLAS: what was there (NaN, say) is
  // not kept.
  __attribute__((target("avx512f"), always_inline)) inline void store(const MatmulArgs& g, float* c,
                                                                      __mmask16 last) const {
    for (int v = 0; v < V; ++v) {
      const __mmask16 lanes = v == V - 1 ? last : __mmask16(0xFFFF);
      __m512 out = g.alpha == 1.0
                       ? acc[v]
                       : _mm512_mul_ps(_mm512_set1_ps(static_cast<float>(g.alpha)), acc[v]);
      if (g.beta != 0.0) {
        out = _mm512_add_ps(out, _mm512_mul_ps(_mm512_set1_ps(static_cast<float>(g.beta)),
                                               _mm512_maskz_loadu_ps(lanes, c + 16 * v)));
      }
      _mm512_mask_storeu_ps(c + 16 * v, lanes, out);
    }
  }
};

// C[r, c0, + V·16 columns, the last vector's lanes `last`) for rows r0..r1 - 1, two rows at a
// time (twice the independent FMA chains; each row's entries still in order).
template <int V>
__attribute__((target("avx512f"))) void product_tile(const MatmulArgs& g, const Rows& rows,
                                                     int64_t r0, int64_t r1, int64_t c0,
                                                     __mmask16 last) {
  const float* b = static_cast<const float*>(g.b) + c0;
  float* c = static_cast<float*>(g.c) + c0;
  const int64_t ldb = g.ldb;
  const int32_t* index = rows.index.data();
  const float* value = rows.value.data();
  const int64_t* start = rows.start.data();
  Tile<V> x, y;
  int64_t r = r0;
  for (; r + 1 < r1; r += 2) {
    x.clear();
    y.clear();
    int64_t e = start[r], f = start[r + 1];
    const int64_t e_end = start[r + 1], f_end = start[r + 2];
    for (const int64_t both = e + std::min(e_end - e, f_end - f); e < both; ++e, ++f) {
      x.add(value[e], b + index[e] * ldb, last);
      y.add(value[f], b + index[f] * ldb, last);
    }
    for (; e < e_end; ++e) x.add(value[e], b + index[e] * ldb, last);
    for (; f < f_end; ++f) y.add(value[f], b + index[f] * ldb, last);
    x.store(g, c + r * g.ldc, last);
    y.store(g, c + (r + 1) * g.ldc, last);
  }
  if (r < r1) {
    x.clear();
    for (int64_t e = start[r]; e < start[r + 1]; ++e) x.add(value[e], b + index[e] * ldb, last);
    x.store(g, c + r * g.ldc, last);
  }
}

// Rows r0..r1 - 1 of C, a tile of 64 columns at a time (B's tile stays in cache across rows).
__attribute__((target("avx512f"))) void product_rows(const MatmulArgs& g, const Rows& rows,
                                                     int64_t r0, int64_t r1) {
  for (int64_t c0 = 0; c0 < g.n; c0 += 16 * kVectors) {
    const int64_t width = std::min<int64_t>(16 * kVectors, g.n - c0);
    const int vectors = static_cast<int>((width + 15) / 16);
    const __mmask16 last = first_lanes(width - 16 * (vectors - 1));
    switch (vectors) {
      case 1: product_tile<1>(g, rows, r0, r1, c0, last); break;
      case 2: product_tile<2>(g, rows, r0, r1, c0, last); break;
      case 3: product_tile<3>(g, rows, r0, r1, c0, last); break;
      default: product_tile<kVectors>(g, rows, r0, r1, c0, last); break;
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Splits [0, size) into `parts` contiguous ranges; part p is [first(p), first(p + 1)).
int64_t even_split(int64_t size, int parts, int p) { return size * p / parts; }

#endif  // TG_SPARSE_AVX512

}  // namespace

bool available() {
#ifdef TG_SPARSE_AVX512
  return cpu_has_avx512f();
#else
  return false;
#endif
}

bool matmul(const MatmulArgs& g) {
#ifdef TG_SPARSE_AVX512
  // alpha = 0 is left to the dense product, which does not multiply A·B at all (BLAS's rule).
  if (g.dtype != DType::Float32 || g.trans_b || g.batch != 1 || g.alpha == 0.0 ||
      static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k) < kMinWork ||
      !available()) {
    return false;
  }
  // The calling thread's lists, reused between calls; inside the region every thread works on
  // these (a thread_local named there would be each thread's own).
  thread_local Rows own;
  Rows& rows = own;
  rows.start.assign(static_cast<size_t>(g.m + 1), 0);
  bool taken = true;
#pragma omp parallel
  {
    const int threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t r0 = even_split(g.m, threads, t), r1 = even_split(g.m, threads, t + 1);
    count_rows(g, r0, r1, rows.start.data() + 1);
    const bool finite =
        finite_rows(g, even_split(g.k, threads, t), even_split(g.k, threads, t + 1));
    if (!finite) {
#pragma omp atomic write
      taken = false;
    }
#pragma omp barrier
#pragma omp single
    {
      for (int64_t r = 0; r < g.m; ++r) rows.start[r + 1] += rows.start[r];
      const double entries = static_cast<double>(rows.start[g.m]);
      if (entries > kMaxDensity * static_cast<double>(g.m) * static_cast<double>(g.k))
        taken = false;
      if (taken) {
        rows.index.resize(static_cast<size_t>(rows.start[g.m]));
        rows.value.resize(static_cast<size_t>(rows.start[g.m]));
      }
    }  // (a barrier)
    if (taken) {
      list_rows(g, r0, r1, rows);
#pragma omp barrier
      // Rows of about equal entry counts per thread; the bits do not depend on the split.
      const auto row_at = [&](int p) {
        const int64_t target = rows.start[g.m] * p / threads;
        return static_cast<int64_t>(
            std::lower_bound(rows.start.begin(), rows.start.end() - 1, target) -
            rows.start.begin());
      };
      const int64_t first = t == 0 ? 0 : row_at(t), end = t + 1 == threads ? g.m : row_at(t + 1);
      product_rows(g, rows, first, end);
    }
  }
  // Lists of up to 2^20 entries (8 MiB) are kept for the next call; a larger one is let go.
  if (rows.index.capacity() > (size_t(1) << 20)) own = Rows();
  return taken;
#else
  (void)g;
  return false;
#endif
}

}  // namespace tg::kernels::cpu::sparse_rows
