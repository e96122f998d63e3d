// A first layer's float32 forward on our own AVX-512 loop (kernels/cpu/conv2d_first.h).
//
// Note [first layer]
// The MNIST CNN's first convolution (1 -> 32 channels, 3x3, on 28x28) ran on oneDNN's direct
// jit kernel at ~22 GFLOP/s, 0.5-0.77 ms a step on 2 threads (bench/NOTES.md, fourteenth
// session): with one input channel there is no channel loop to vectorise over. Here 16 output
// channels share a register: each output pixel is 9 FMAs of a broadcast input pixel with the
// 16 channels' weights for that tap, four pixels of a row at a time (their taps' input pixels
// overlap: 6 loads a filter row for 12 FMAs). The sample's input is first copied into a
// zero-bordered plane, so a padded tap multiplies 0 as im2col's does (0·inf is NaN there too).
// Each output is the sum of its 9 taps in order (ky, then kx) from +0, then the bias: one
// thread per (sample, 16 channels), so the bits do not depend on the thread count (and on the
// MNIST CNN they are oneDNN's: its losses did not move). The batch of 128 on 2 threads: 283 us
// alone (~205 GFLOP/s); in a run 0.29 ms a step where oneDNN's took 0.65.
#include "conv2d_first.h"

#include <algorithm>
#include <vector>

#include "isa_clones.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TG_FIRST_AVX512 1
#endif

namespace tg::kernels::cpu::first_layer {

namespace {

#ifdef TG_FIRST_AVX512

// GCC 12 warns inside its own AVX-512 headers (their _mm512_undefined_* operands): not ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define TG_AVX512 __attribute__((target("avx512f")))

constexpr int kRun = 4;  // output pixels of a row per pass

// Channels [16 cb, 16 cb + 16) of sample n: `plane` its input with a zero border ((h + 2) rows
// of w + 2), `taps` the 9 taps' 16 weights, `bias` 16 or null.
TG_AVX512 void block_of_channels(const Conv2dGeometry& g, const float* plane, const float* taps,
                                 const float* bias, float* out) {
  __m512 w[9];
  for (int t = 0; t < 9; ++t) w[t] = _mm512_loadu_ps(taps + 16 * t);
  const __m512 b = bias != nullptr ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
  const int64_t stride = g.w + 2;
  for (int64_t y = 0; y < g.h; ++y) {
    float* row_out = out + y * g.w * 16;
    int64_t x = 0;
    for (; x + kRun <= g.w; x += kRun) {
      __m512 acc[kRun];
      for (int j = 0; j < kRun; ++j) acc[j] = _mm512_setzero_ps();
      for (int ky = 0; ky < 3; ++ky) {
        const float* in = plane + (y + ky) * stride + x;
        for (int kx = 0; kx < 3; ++kx) {
          for (int j = 0; j < kRun; ++j)
            acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(in[j + kx]), w[ky * 3 + kx], acc[j]);
        }
      }
      for (int j = 0; j < kRun; ++j) {
        const __m512 v = bias != nullptr ? _mm512_add_ps(acc[j], b) : acc[j];
        _mm512_storeu_ps(row_out + (x + j) * 16, v);
      }
    }
    for (; x < g.w; ++x) {
      __m512 acc = _mm512_setzero_ps();
      for (int ky = 0; ky < 3; ++ky) {
        const float* in = plane + (y + ky) * stride + x;
        for (int kx = 0; kx < 3; ++kx)
          acc = _mm512_fmadd_ps(_mm512_set1_ps(in[kx]), w[ky * 3 + kx], acc);
      }
      _mm512_storeu_ps(row_out + x * 16, bias != nullptr ? _mm512_add_ps(acc, b) : acc);
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // TG_FIRST_AVX512

}  // namespace

bool takes(const Conv2dArgs& a) {
#ifdef TG_FIRST_AVX512
  const Conv2dGeometry& g = a.g;
  return a.dtype == DType::Float32 && a.blocked && !a.x_blocked && g.c_in == 1 && g.kh == 3 &&
         g.kw == 3 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 1 && g.pad_w == 1 &&
         g.dil_h == 1 && g.dil_w == 1 && g.groups == 1 && g.c_out % 16 == 0 && g.c_out > 0 &&
         g.out_h == g.h && g.out_w == g.w && cpu_has_avx512f();
#else
  (void)a;
  return false;
#endif
}

void forward(const Conv2dArgs& a) {
#ifdef TG_FIRST_AVX512
  const Conv2dGeometry& g = a.g;
  const int64_t blocks = g.c_out / 16, plane = g.h * g.w;
  if (g.n == 0 || plane == 0) return;
  // The weight (C_out, 1, 3, 3) as [block][tap][16 channels].
  std::vector<float> taps(static_cast<size_t>(g.c_out * 9));
  const float* weight = static_cast<const float*>(a.weight);
  for (int64_t c = 0; c < g.c_out; ++c) {
    for (int t = 0; t < 9; ++t)
      taps[static_cast<size_t>((c / 16 * 9 + t) * 16 + c % 16)] = weight[c * 9 + t];
  }
  const float* x = static_cast<const float*>(a.x);
  const float* bias = static_cast<const float*>(a.bias);
  float* y = static_cast<float*>(a.out);
  const int64_t bordered = (g.h + 2) * (g.w + 2);
#pragma omp parallel
  {
    thread_local std::vector<float> zero_bordered;  // kept: no allocation a step
    zero_bordered.assign(static_cast<size_t>(bordered), 0.0f);
    int64_t copied = -1;  // the sample now in zero_bordered
#pragma omp for schedule(static)
    for (int64_t task = 0; task < g.n * blocks; ++task) {
      const int64_t n = task / blocks, cb = task % blocks;
      if (n != copied) {
        for (int64_t r = 0; r < g.h; ++r) {
          std::copy_n(x + n * plane + r * g.w, g.w, zero_bordered.data() + (r + 1) * (g.w + 2) + 1);
        }
        copied = n;
      }
      block_of_channels(g, zero_bordered.data(), taps.data() + cb * 9 * 16,
                        bias != nullptr ? bias + cb * 16 : nullptr,
                        y + (n * blocks + cb) * plane * 16);
    }
  }
#else
  (void)a;
#endif
}

}  // namespace tg::kernels::cpu::first_layer
