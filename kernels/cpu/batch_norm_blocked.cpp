// Batch norm + ReLU + 2x2 max pooling over nChw16c float32 data (Note [conv block] in
// kernels/batch_norm.h): the NCHW passes' stages 1 and 3 (kernels/cpu/batch_norm.cpp) for 16
// channels side by side. Every loop over a group's 16 channels is one AVX-512 register (two of
// doubles); each channel's sums still go to its own eight double lanes in the NCHW order
// (element k of a run to lane k mod 8, runs in sample order, the lanes added 0..7), and the
// element functions and the pooling rule are the same, so the bits are those of the NCHW ops.
#include "batch_norm_blocked.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "batch_norm_windows.h"
#include "isa_clones.h"

namespace tg::kernels::cpu::batch_norm_blocked {

namespace {

static_assert(batch_norm_windows::kGroup == kGroup);
using batch_norm_parts::Blocks;
using batch_norm_parts::kLanes;

// The channel values a group's element functions take: γ = 1 and β = 0 when absent (the same
// bits after the ReLU, which turns batchnorm_element's -0 into +0 either way).
struct GroupParams {
  GroupParams(const void* mean_in, const void* invstd_in, const void* gamma_in, const void* beta_in,
              int64_t group) {
    const int64_t c0 = group * kGroup;
    for (int c = 0; c < kGroup; ++c) {
      mean[c] = static_cast<const float*>(mean_in)[c0 + c];
      invstd[c] = static_cast<const float*>(invstd_in)[c0 + c];
      gamma[c] = gamma_in != nullptr ? static_cast<const float*>(gamma_in)[c0 + c] : 1.0f;
      beta[c] = beta_in != nullptr ? static_cast<const float*>(beta_in)[c0 + c] : 0.0f;
    }
  }
  // relu(batch norm) of x at channel c, whose window maxima the forward pools.
  inline __attribute__((always_inline)) float value(float x, int c) const {
    return relu_element((x - mean[c]) * invstd[c] * gamma[c] + beta[c]);
  }
  float mean[kGroup], invstd[kGroup], gamma[kGroup], beta[kGroup];
};

// Sample n's elements of the group: hw pixels of 16 channels.
const float* planes_of(const void* x, const BatchNormShape& s, int64_t n, int64_t group) {
  return static_cast<const float*>(x) + (n * (s.c / kGroup) + group) * s.hw * kGroup;
}

// A thread's buffer of at least `size` Ts; it only grows.
template <typename T>
T* thread_buffer(int64_t size) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < static_cast<size_t>(size)) buffer.resize(static_cast<size_t>(size));
  return buffer.data();
}

// Inlined into each ISA clone that calls it (a call would run the default level's code).
#define TG_INLINE inline __attribute__((always_inline))

// The 2x2 window (oh, ow) of a width-`width` plane: its four pixels in max_pool_element's
// order, and the maximum of their relu(batch norm) values by its rule (a NaN wins and stays)
// at each channel into best, which of the four into at.
struct Window {
  int64_t pixel[4];
  TG_INLINE Window(int64_t oh, int64_t ow, int64_t width) {
    pixel[0] = 2 * oh * width + 2 * ow;
    pixel[1] = pixel[0] + 1;
    pixel[2] = pixel[0] + width;
    pixel[3] = pixel[2] + 1;
  }
  TG_INLINE void maxima(const float* x, const GroupParams& p, float* best, int* at) const {
    float v[4][kGroup];
    for (int j = 0; j < 4; ++j) {
      const float* in = x + pixel[j] * kGroup;
      for (int c = 0; c < kGroup; ++c) v[j][c] = p.value(in[c], c);
    }
    for (int c = 0; c < kGroup; ++c) {
      best[c] = v[0][c];
      at[c] = 0;
    }
    for (int j = 1; j < 4; ++j) {  // a step at a time across the channels: one masked move
#pragma omp simd
      for (int c = 0; c < kGroup; ++c) {
        const float b = best[c], u = v[j][c];
        const bool take = (b == b) & ((u > b) | (u != u));
        best[c] = take ? u : b;
        at[c] = take ? j : at[c];
      }
    }
  }
};

// A window's code where the ReLU closed the gate: no pixel takes the gradient (Note [conv
// block]); 0-3 name a pixel in max_pool_element's order.
constexpr uint8_t kNoPixel = 4;

// Sample n's window codes of the group (N·C/16 runs of out_plane·16 bytes, blocked like x).
template <typename Byte>
Byte* codes_of(Byte* codes, const BatchNormShape& s, int64_t out_plane, int64_t n, int64_t group) {
  return codes + (n * s.c + group * kGroup) * out_plane;
}

// Pixel j's gradient of relu(batch norm) at channel c from its window's: the window's where
// the code names the pixel, 0 elsewhere.
TG_INLINE float pixel_grad(const float* window, const int32_t* code, int j, int c) {
  // By a bit mask: GCC leaves a select of floats here as a branch, and the loop scalar.
  uint32_t bits;
  std::memcpy(&bits, &window[c], sizeof bits);
  bits &= 0u - static_cast<uint32_t>(code[c] == j);
  float g;
  std::memcpy(&g, &bits, sizeof g);
  return g;
}

// Sample n's pixels of the group in memory order with what their gradient of relu(batch norm)
// comes from: visit(k, window, code, j) takes pixel k, pixel j of a window whose gradient at
// the 16 channels is window[0, 16) (0 + g, as pool2d_backward adds the pooled output's
// gradient to a zeroed plane) and whose codes are code[0, 16) (pixel_grad). The last row and
// column of odd planes, in no window, get the gradient 0 (a window of zeros that names no
// pixel).
template <typename Visit>
TG_INLINE void for_each_pixel(const BatchNormBackwardArgs& a, int64_t n, int64_t group,
                              Visit&& visit) {
  const BatchNormShape& s = a.shape;
  const int64_t width = a.width, out_h = a.height / 2, out_w = a.width / 2;
  const int64_t out_plane = out_h * out_w;
  // The pooled gradient's 16 planes, blocked like x.
  const float* pooled =
      static_cast<const float*>(a.pooled_grad) + (n * s.c + group * kGroup) * out_plane;
  float* windows = thread_buffer<float>(out_plane * kGroup);
  batch_norm_windows::to_windows(pooled, out_plane, windows);
  // The codes as wide as the gradient (comparing bytes, the loops ran four floats wide).
  const uint8_t* bytes = codes_of(a.window_codes, s, out_plane, n, group);
  int32_t* codes = thread_buffer<int32_t>(out_plane * kGroup);
  for (int64_t i = 0; i < out_plane * kGroup; ++i) codes[i] = bytes[i];
  alignas(64) static constexpr float kZeros[kGroup] = {};
  alignas(64) static constexpr int32_t kNone[kGroup] = {
      kNoPixel, kNoPixel, kNoPixel, kNoPixel, kNoPixel, kNoPixel, kNoPixel, kNoPixel,
      kNoPixel, kNoPixel, kNoPixel, kNoPixel, kNoPixel, kNoPixel, kNoPixel, kNoPixel};
  for (int64_t row = 0; row < a.height; ++row) {
    const int64_t oh = row / 2;
    if (oh == out_h) {  // the last row of an odd plane
      for (int64_t col = 0; col < width; ++col) visit(row * width + col, kZeros, kNone, 0);
      continue;
    }
    const int first = static_cast<int>(row % 2) * 2;  // the row's pixels are j = first, first + 1
    for (int64_t ow = 0; ow < out_w; ++ow) {
      const int64_t o = oh * out_w + ow;
      visit(row * width + 2 * ow, windows + o * kGroup, codes + o * kGroup, first);
      visit(row * width + 2 * ow + 1, windows + o * kGroup, codes + o * kGroup, first + 1);
    }
    if (width % 2 != 0) visit(row * width + width - 1, kZeros, kNone, 0);
  }
}

// The passes, compiled per x86-64 level (Note [wider lanes for batch norm]); a clone's ifunc
// symbol stays inside the library only with internal linkage.
TG_ISA_CLONES void forward_summary_of(const BatchNormForwardArgs& a, Blocks blocks, int64_t b,
                                      int64_t group, double* summaries) {
  const BatchNormShape& s = a.shape;
  const int64_t n0 = b * blocks.samples, n1 = std::min(s.n, n0 + blocks.samples);
  const double count = static_cast<double>((n1 - n0) * s.hw);
  // The sum of term(x, c) per channel over the block, in lane_sums' lanes and order.
  const auto sums = [&](auto&& term, double* total) {
    double lanes[kLanes][kGroup] = {};
    for (int64_t n = n0; n < n1; ++n) {
      const float* x = planes_of(a.x, s, n, group);
      for (int64_t k = 0; k < s.hw; ++k) {
        double* lane = lanes[k % kLanes];
        for (int c = 0; c < kGroup; ++c) lane[c] += term(x[k * kGroup + c], c);
      }
    }
    for (int c = 0; c < kGroup; ++c) total[c] = 0;
    for (int l = 0; l < kLanes; ++l)
      for (int c = 0; c < kGroup; ++c) total[c] += lanes[l][c];
  };
  double mean[kGroup], m2[kGroup];
  sums([](float x, int) { return double(x); }, mean);
  for (int c = 0; c < kGroup; ++c) mean[c] /= count;
  sums([&](float x, int c) { return (x - mean[c]) * (x - mean[c]); }, m2);
  double* out = summaries + 2 * (b * s.c + group * kGroup);
  for (int c = 0; c < kGroup; ++c) {
    out[2 * c] = mean[c];
    out[2 * c + 1] = m2[c];
  }
}

TG_ISA_CLONES void forward_planes_of(const BatchNormForwardArgs& a, int64_t n, int64_t group) {
  const BatchNormShape& s = a.shape;
  const GroupParams p(a.save_mean, a.save_invstd, a.gamma, a.beta, group);
  const float* x = planes_of(a.x, s, n, group);
  const int64_t out_h = a.height / 2, out_w = a.width / 2, out_plane = out_h * out_w;
  // Blocked, then written out per channel.
  float* pooled = thread_buffer<float>(out_plane * kGroup);
  uint8_t* codes = codes_of(a.window_codes, s, out_plane, n, group);
  int at[kGroup];
  for (int64_t oh = 0; oh < out_h; ++oh) {
    for (int64_t ow = 0; ow < out_w; ++ow) {
      const int64_t o = oh * out_w + ow;
      float* best = pooled + o * kGroup;
      Window(oh, ow, a.width).maxima(x, p, best, at);
#pragma omp simd
      for (int c = 0; c < kGroup; ++c) at[c] = best[c] > 0.0f ? at[c] : kNoPixel;  // the gate
      for (int c = 0; c < kGroup; ++c) codes[o * kGroup + c] = static_cast<uint8_t>(at[c]);
    }
  }
  float* out = static_cast<float*>(a.pooled) + (n * s.c + group * kGroup) * out_plane;
  batch_norm_windows::to_planes(pooled, out_plane, out);
}

TG_ISA_CLONES void backward_summary_of(const BatchNormBackwardArgs& a, Blocks blocks, int64_t b,
                                       int64_t group, double* summaries) {
  const BatchNormShape& s = a.shape;
  const int64_t n0 = b * blocks.samples, n1 = std::min(s.n, n0 + blocks.samples);
  double mean[kGroup];
  for (int c = 0; c < kGroup; ++c) mean[c] = static_cast<const float*>(a.mean)[group * kGroup + c];
  double lanes_a[kLanes][kGroup] = {}, lanes_b[kLanes][kGroup] = {};
  for (int64_t n = n0; n < n1; ++n) {
    const float* x = planes_of(a.x, s, n, group);
    for_each_pixel(a, n, group, [&](int64_t k, const float* window, const int32_t* code, int j) {
      const float* xk = x + k * kGroup;
      double* lane_a = lanes_a[k % kLanes];
      double* lane_b = lanes_b[k % kLanes];
#pragma omp simd
      for (int c = 0; c < kGroup; ++c) {
        const double gk = pixel_grad(window, code, j, c);
        lane_a[c] += gk;
        lane_b[c] += gk * (static_cast<double>(xk[c]) - mean[c]);
      }
    });
  }
  double* out = summaries + 2 * (b * s.c + group * kGroup);
  for (int c = 0; c < kGroup; ++c) {
    out[2 * c] = 0;
    out[2 * c + 1] = 0;
  }
  for (int l = 0; l < kLanes; ++l) {
    for (int c = 0; c < kGroup; ++c) {
      out[2 * c] += lanes_a[l][c];
      out[2 * c + 1] += lanes_b[l][c];
    }
  }
}

TG_ISA_CLONES void backward_planes_of(const BatchNormBackwardArgs& a, const float* terms, int64_t n,
                                      int64_t group, float* grad_x) {
  const BatchNormShape& s = a.shape;
  const float* x = planes_of(a.x, s, n, group);
  float mean[kGroup], invstd[kGroup], scale[kGroup], mean_g[kGroup], mean_g_xhat[kGroup];
  for (int c = 0; c < kGroup; ++c) {
    mean[c] = static_cast<const float*>(a.mean)[group * kGroup + c];
    invstd[c] = static_cast<const float*>(a.invstd)[group * kGroup + c];
    const float* t = terms + 3 * (group * kGroup + c);
    scale[c] = t[0];
    mean_g[c] = t[1];
    mean_g_xhat[c] = t[2];
  }
  for_each_pixel(a, n, group, [&](int64_t k, const float* window, const int32_t* code, int j) {
    const float* xk = x + k * kGroup;
    float* dx = grad_x + k * kGroup;
#pragma omp simd
    for (int c = 0; c < kGroup; ++c) {
      dx[c] = batchnorm_backward_element(pixel_grad(window, code, j, c), xk[c], mean[c], invstd[c],
                                         scale[c], mean_g[c], mean_g_xhat[c], a.training);
    }
  });
}

}  // namespace

void forward_summary(const BatchNormForwardArgs& a, Blocks blocks, int64_t b, int64_t group,
                     double* summaries) {
  forward_summary_of(a, blocks, b, group, summaries);
}
void forward_planes(const BatchNormForwardArgs& a, int64_t n, int64_t group) {
  forward_planes_of(a, n, group);
}
void backward_summary(const BatchNormBackwardArgs& a, Blocks blocks, int64_t b, int64_t group,
                      double* summaries) {
  backward_summary_of(a, blocks, b, group, summaries);
}
void backward_planes(const BatchNormBackwardArgs& a, const float* terms, int64_t n, int64_t group,
                     float* out) {
  backward_planes_of(a, terms, n, group, out);
}

}  // namespace tg::kernels::cpu::batch_norm_blocked
