// Winograd F(4x4, 3x3) on blocks of samples in nChw16c (winograd_f43.h).
//
// Note [winograd f43]
// Each 4x4 tile of the output is computed from the 6x6 patch of the input around it (Lavin &
// Gray 2016): the patch transformed, V = Bᵀ d B, the filter transformed once per call,
// U = G g Gᵀ, their 36 elements multiplied and summed over the input channels, M[e] = Σ_c V[e][c]
// U[e][c] (one small GEMM per element e: tiles x c_from times c_from x c_to), and M turned
// back into the tile, Y = Aᵀ M A. oneDNN's jit_wino_4x3 computes the same; ours keeps the
// transformed filter of the whole call (oneDNN transforms it again for every block of 16
// samples) and works through the tiles in chunks whose V and M stay in L2. Measured on the
// MNIST CNN's layers, one block of 16 samples on one thread (bench/NOTES.md, thirteenth
// session): 32->64 on 14x14 0.48 against oneDNN's 0.56 ms, 64->128 on 7x7 0.43 against 0.70.
// The data gradient is the same computation on the output's gradient with the filter turned
// by 180 degrees and its channel axes swapped (transform_filter's Direction::Data).
// Each block runs on one thread and sums in a fixed order, so the bits do not depend on the
// thread count. Error: as oneDNN's Winograd (relative RMS ~8e-7 against it on those layers).
#include "winograd_f43.h"

#include <algorithm>

#include "isa_clones.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TG_WINOGRAD_AVX512 1
#endif

namespace tg::kernels::cpu::winograd {

namespace {

constexpr int64_t kChunk = 24;  // tiles per pass through V and M
constexpr int kRows = 6;        // tiles per GEMM micro-tile

#ifdef TG_WINOGRAD_AVX512

#define TG_AVX512 __attribute__((target("avx512f")))
#define TG_AVX512_INLINE __attribute__((target("avx512f"), always_inline)) inline

// The transforms of Note [winograd f43], on the points 0, 1, -1, 1/2, -2 and infinity.
// Bᵀ d (or d B, on the transposed pattern) for one row or column of six vectors; Bᵀ =
//   [1 -3/2 -2  3/2  1 0]   [0 -1  1/2  5/2 1 0]   [0 1 -5/2 1/2 1 0]
//   [0 -2   -1  2    1 0]   [0 1/2 -1 -1/2 1 0]    [0 1 -3/2 -2 3/2 1]
TG_AVX512_INLINE void input_line(__m512 d0, __m512 d1, __m512 d2, __m512 d3, __m512 d4, __m512 d5,
                                 __m512* out, int step) {
  const __m512 half = _mm512_set1_ps(0.5f), c2 = _mm512_set1_ps(2), c15 = _mm512_set1_ps(1.5f),
               c25 = _mm512_set1_ps(2.5f);
  out[0 * step] =
      _mm512_fmadd_ps(c15, _mm512_sub_ps(d3, d1), _mm512_fnmadd_ps(c2, d2, _mm512_add_ps(d0, d4)));
  out[1 * step] = _mm512_fmadd_ps(c25, d3, _mm512_fmadd_ps(half, d2, _mm512_sub_ps(d4, d1)));
  out[2 * step] = _mm512_fnmadd_ps(c25, d2, _mm512_fmadd_ps(half, d3, _mm512_add_ps(d4, d1)));
  out[3 * step] = _mm512_fmadd_ps(c2, _mm512_sub_ps(d3, d1), _mm512_sub_ps(d4, d2));
  out[4 * step] = _mm512_fmadd_ps(half, _mm512_sub_ps(d1, d3), _mm512_sub_ps(d4, d2));
  out[5 * step] =
      _mm512_fmadd_ps(c15, _mm512_sub_ps(d4, d2), _mm512_fnmadd_ps(c2, d3, _mm512_add_ps(d1, d5)));
}

// Aᵀ m for one line of six vectors into four; Aᵀ =
//   [1 1 1 1 1 0]   [0 1 -1 1/2 -2 0]   [0 1 1 1/4 4 0]   [0 1 -1 1/8 -8 1]
TG_AVX512_INLINE void output_line(__m512 m0, __m512 m1, __m512 m2, __m512 m3, __m512 m4, __m512 m5,
                                  __m512* out, int step) {
  const __m512 a = _mm512_add_ps(m1, m2), b = _mm512_sub_ps(m1, m2);
  out[0 * step] = _mm512_add_ps(_mm512_add_ps(m0, a), _mm512_add_ps(m3, m4));
  out[1 * step] =
      _mm512_fmadd_ps(_mm512_set1_ps(0.5f), m3, _mm512_fnmadd_ps(_mm512_set1_ps(2), m4, b));
  out[2 * step] =
      _mm512_fmadd_ps(_mm512_set1_ps(0.25f), m3, _mm512_fmadd_ps(_mm512_set1_ps(4), m4, a));
  out[3 * step] = _mm512_add_ps(
      _mm512_fmadd_ps(_mm512_set1_ps(0.125f), m3, _mm512_fnmadd_ps(_mm512_set1_ps(8), m4, b)), m5);
}

// The tile's place: sample, tile row and tile column of tile index t.
struct Tiles {
  int64_t rows, cols, h, w;
  void place(int64_t t, int64_t* n, int64_t* ty, int64_t* tx) const {
    *n = t / (rows * cols);
    *ty = t / cols % rows;
    *tx = t % cols;
  }
};

// V[e][t][c] for the chunk's tiles [first, first + count): every 16 channels of a patch at once.
TG_AVX512 void transform_inputs(const Tiles& tiles, int64_t c_from, const float* x, int64_t first,
                                int64_t count, float* v) {
  const int64_t plane = tiles.h * tiles.w * 16;
  for (int64_t t = 0; t < count; ++t) {
    int64_t n, ty, tx;
    tiles.place(first + t, &n, &ty, &tx);
    for (int64_t cb = 0; cb < c_from / 16; ++cb) {
      const float* p = x + (n * (c_from / 16) + cb) * plane;
      __m512 d[36], r[36], o[36];
      for (int i = 0; i < 6; ++i) {
        const int64_t y = ty * 4 - 1 + i;
        for (int j = 0; j < 6; ++j) {
          const int64_t xx = tx * 4 - 1 + j;
          const bool inside = y >= 0 && y < tiles.h && xx >= 0 && xx < tiles.w;
          d[i * 6 + j] = inside ? _mm512_load_ps(p + (y * tiles.w + xx) * 16) : _mm512_setzero_ps();
        }
      }
      for (int j = 0; j < 6; ++j) {
        input_line(d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j], r + j, 6);
      }
      for (int i = 0; i < 6; ++i) {
        const __m512* q = r + i * 6;
        input_line(q[0], q[1], q[2], q[3], q[4], q[5], o + i * 6, 1);
      }
      for (int e = 0; e < 36; ++e) _mm512_store_ps(v + (e * kChunk + t) * c_from + cb * 16, o[e]);
    }
  }
}

// M[t0 .. t0 + R)[o0 .. o0 + 16 J) = V[t0 .. t0 + R) · U[:, o0 .. o0 + 16 J) for one element.
template <int R, int J>
TG_AVX512_INLINE void micro_tile(const float* v, const float* u, float* m, int64_t c_from,
                                 int64_t c_to, int64_t t0, int64_t o0) {
  __m512 acc[R][J];
  for (int r = 0; r < R; ++r) {
    for (int j = 0; j < J; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < c_from; ++k) {
    __m512 b[J];
    for (int j = 0; j < J; ++j) b[j] = _mm512_load_ps(u + k * c_to + o0 + 16 * j);
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(v[(t0 + r) * c_from + k]);
      for (int j = 0; j < J; ++j) acc[r][j] = _mm512_fmadd_ps(a, b[j], acc[r][j]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int j = 0; j < J; ++j) _mm512_store_ps(m + (t0 + r) * c_to + o0 + 16 * j, acc[r][j]);
  }
}

template <int J>
TG_AVX512 void product_columns(const float* v, const float* u, float* m, int64_t c_from,
                               int64_t c_to, int64_t count, int64_t o0) {
  int64_t t = 0;
  for (; t + kRows <= count; t += kRows) micro_tile<kRows, J>(v, u, m, c_from, c_to, t, o0);
  switch (count - t) {
    case 5: return micro_tile<5, J>(v, u, m, c_from, c_to, t, o0);
    case 4: return micro_tile<4, J>(v, u, m, c_from, c_to, t, o0);
    case 3: return micro_tile<3, J>(v, u, m, c_from, c_to, t, o0);
    case 2: return micro_tile<2, J>(v, u, m, c_from, c_to, t, o0);
    case 1: return micro_tile<1, J>(v, u, m, c_from, c_to, t, o0);
    default: return;
  }
}

// M[e] = V[e] · U[e] for the 36 elements of the chunk's `count` tiles.
TG_AVX512 void multiply(const float* v, const float* u, float* m, int64_t c_from, int64_t c_to,
                        int64_t count) {
  for (int e = 0; e < 36; ++e) {
    const float* ve = v + e * kChunk * c_from;
    const float* ue = u + e * c_from * c_to;
    float* me = m + e * kChunk * c_to;
    int64_t o = 0;
    for (; o + 64 <= c_to; o += 64) product_columns<4>(ve, ue, me, c_from, c_to, count, o);
    switch ((c_to - o) / 16) {
      case 3: product_columns<3>(ve, ue, me, c_from, c_to, count, o); break;
      case 2: product_columns<2>(ve, ue, me, c_from, c_to, count, o); break;
      case 1: product_columns<1>(ve, ue, me, c_from, c_to, count, o); break;
      default: break;
    }
  }
}

// y's tiles from M (plus the bias), cut at the plane's edges.
TG_AVX512 void transform_outputs(const Tiles& tiles, int64_t c_to, const float* m,
                                 const float* bias, int64_t first, int64_t count, float* y) {
  const int64_t plane = tiles.h * tiles.w * 16;
  for (int64_t t = 0; t < count; ++t) {
    int64_t n, ty, tx;
    tiles.place(first + t, &n, &ty, &tx);
    for (int64_t cb = 0; cb < c_to / 16; ++cb) {
      __m512 d[36], r[24], o[16];
      for (int e = 0; e < 36; ++e) d[e] = _mm512_load_ps(m + (e * kChunk + t) * c_to + cb * 16);
      for (int j = 0; j < 6; ++j) {
        output_line(d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j], r + j, 6);
      }
      for (int i = 0; i < 4; ++i) {
        const __m512* q = r + i * 6;
        output_line(q[0], q[1], q[2], q[3], q[4], q[5], o + i * 4, 1);
      }
      const __m512 b = bias != nullptr ? _mm512_loadu_ps(bias + cb * 16) : _mm512_setzero_ps();
      float* p = y + (n * (c_to / 16) + cb) * plane;
      for (int i = 0; i < 4 && ty * 4 + i < tiles.h; ++i) {
        for (int j = 0; j < 4 && tx * 4 + j < tiles.w; ++j) {
          const __m512 out = bias != nullptr ? _mm512_add_ps(o[i * 4 + j], b) : o[i * 4 + j];
          _mm512_store_ps(p + ((ty * 4 + i) * tiles.w + tx * 4 + j) * 16, out);
        }
      }
    }
  }
}

TG_AVX512 void convolve_avx512(int64_t count, int64_t c_from, int64_t c_to, int64_t h, int64_t w,
                               const float* x, const float* u, const float* bias, float* y,
                               float* scratch) {
  const Tiles tiles{(h + 3) / 4, (w + 3) / 4, h, w};
  const int64_t total = count * tiles.rows * tiles.cols;
  float* v = scratch;
  float* m = scratch + 36 * kChunk * c_from;
  for (int64_t first = 0; first < total; first += kChunk) {
    const int64_t n = std::min(kChunk, total - first);
    transform_inputs(tiles, c_from, x, first, n, v);
    multiply(v, u, m, c_from, c_to, n);
    transform_outputs(tiles, c_to, m, bias, first, n, y);
  }
}

#endif  // TG_WINOGRAD_AVX512

// G, the filter's transform (6x3), applied in double and rounded once.
constexpr double kG[6][3] = {{1, 0, 0},
                             {1.0 / 3, 1.0 / 3, 1.0 / 3},
                             {-1.0 / 3, 1.0 / 3, -1.0 / 3},
                             {-16.0 / 15, -8.0 / 15, -4.0 / 15},
                             {1.0 / 15, -2.0 / 15, 4.0 / 15},
                             {0, 0, 1}};

// U[e][f][t0 .. t0 + kLanes) for one channel f of the direction: G g Gᵀ for 16 filters at
// once, their taps gathered first so that the loops over lanes vectorise (compiled per x86-64
// level).
constexpr int64_t kLanes = 16;
TG_ISA_CLONES void transform_lanes(const float* weight, int64_t tap_of_lane, const int64_t* taps,
                                   int64_t c_from, int64_t c_to, int64_t f, int64_t t0, float* u) {
  double g[9][kLanes], t[6][3][kLanes];
  for (int k = 0; k < 9; ++k) {
    for (int64_t l = 0; l < kLanes; ++l) g[k][l] = weight[l * tap_of_lane + taps[k]];
  }
  for (int i = 0; i < 6; ++i) {
    for (int b = 0; b < 3; ++b) {
      for (int64_t l = 0; l < kLanes; ++l) {
        t[i][b][l] =
            kG[i][0] * g[0 * 3 + b][l] + kG[i][1] * g[1 * 3 + b][l] + kG[i][2] * g[2 * 3 + b][l];
      }
    }
  }
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) {
      float* out = u + ((i * 6 + j) * c_from + f) * c_to + t0;
      for (int64_t l = 0; l < kLanes; ++l) {
        out[l] = static_cast<float>(t[i][0][l] * kG[j][0] + t[i][1][l] * kG[j][1] +
                                    t[i][2][l] * kG[j][2]);
      }
    }
  }
}

}  // namespace

bool available() {
#ifdef TG_WINOGRAD_AVX512
  return cpu_has_avx512f();
#else
  return false;
#endif
}

bool takes(const Conv2dGeometry& g) {  // (c_to a multiple of 16: transform_lanes' lanes)
  return g.kh == 3 && g.kw == 3 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 1 &&
         g.pad_w == 1 && g.dil_h == 1 && g.dil_w == 1 && g.groups == 1 && g.c_in % 16 == 0 &&
         g.c_out % 16 == 0 && g.c_in > 0 && g.c_out > 0 && g.out_h == g.h && g.out_w == g.w;
}

size_t filter_floats(const Conv2dGeometry& g) { return size_t(36) * g.c_in * g.c_out; }

size_t scratch_floats(int64_t c_from, int64_t c_to) {
  return size_t(36) * kChunk * (c_from + c_to);
}

void transform_filter(const Conv2dGeometry& g, Direction direction, const float* weight, float* u) {
  // The weight is (C_out, C_in, 3, 3). Forward: from C_in (f) to C_out (t), tap (a, b) of
  // w[t][f]; data: from C_out to C_in, tap (2 - a, 2 - b) of w[f][t].
  const bool forward = direction == Direction::Forward;
  const int64_t c_from = forward ? g.c_in : g.c_out, c_to = forward ? g.c_out : g.c_in;
  int64_t taps[9];
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) taps[a * 3 + b] = forward ? a * 3 + b : (2 - a) * 3 + (2 - b);
  }
  const int64_t tap_of_lane = forward ? g.c_in * 9 : 9;  // from lane t to t + 1
  // Each element is computed on its own: the same bits on any thread count.
#pragma omp parallel for schedule(static) if (c_from * c_to >= 4096)
  for (int64_t f = 0; f < c_from; ++f) {
    for (int64_t t0 = 0; t0 < c_to; t0 += kLanes) {
      const float* first =
          forward ? weight + (t0 * g.c_in + f) * 9 : weight + (f * g.c_in + t0) * 9;
      transform_lanes(first, tap_of_lane, taps, c_from, c_to, f, t0, u);
    }
  }
}

void convolve_block(int64_t count, int64_t c_from, int64_t c_to, int64_t h, int64_t w,
                    const float* x, const float* u, const float* bias, float* y, float* scratch) {
#ifdef TG_WINOGRAD_AVX512
  if (count > 0 && h > 0 && w > 0)
    convolve_avx512(count, c_from, c_to, h, w, x, u, bias, y, scratch);
#else
  (void)count, (void)c_from, (void)c_to, (void)h, (void)w, (void)x, (void)u, (void)bias, (void)y,
      (void)scratch;
#endif
}

}  // namespace tg::kernels::cpu::winograd
