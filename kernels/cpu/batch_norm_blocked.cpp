// Batch norm + ReLU + 2x2 max pooling over nChw16c float32 data (Note [conv block] in
// kernels/batch_norm.h): the NCHW passes' stages 1 and 3 (kernels/cpu/batch_norm.cpp) for 16
// channels side by side. Every loop over a group's 16 channels is one AVX-512 register (two of
// doubles); each channel's sums still go to its own eight double lanes in the NCHW order
// (element k of a run to lane k mod 8, runs in sample order, the lanes added 0..7), and the
// element functions and the pooling rule are the same, so the bits are those of the NCHW ops.
#include "batch_norm_blocked.h"

#include <algorithm>
#include <vector>

#include "isa_clones.h"

namespace tg::kernels::cpu::batch_norm_blocked {

namespace {

using batch_norm_parts::Blocks;
using batch_norm_parts::ChannelTerms;
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
  // relu(batch norm) of x at channel c: the forward's value, and the backward's gate.
  inline __attribute__((always_inline)) float value(float x, int c) const {
    return relu_element((x - mean[c]) * invstd[c] * gamma[c] + beta[c]);
  }
  float mean[kGroup], invstd[kGroup], gamma[kGroup], beta[kGroup];
};

// Sample n's elements of the group: hw pixels of 16 channels.
const float* planes_of(const void* x, const BatchNormShape& s, int64_t n, int64_t group) {
  return static_cast<const float*>(x) + (n * (s.c / kGroup) + group) * s.hw * kGroup;
}

// A thread's buffer `slot` (0 or 1) of at least `size` floats; it only grows.
float* thread_buffer(int slot, int64_t size) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& buffer = buffers[slot];
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

// Sample n's gradient of relu(batch norm) for the group, blocked, two plane rows at a time
// (so that it stays in L1): the pooled output's gradient at each window's maximum (0 + g, as
// pool2d_backward adds it to a zeroed plane), gated by the ReLU there; 0 elsewhere.
// consume(k, g, count) takes the values g[0, 16·count) of pixels k, ..., k + count - 1.
template <typename Consume>
TG_INLINE void for_gated_rows(const BatchNormBackwardArgs& a, const GroupParams& p, const float* x,
                              int64_t n, int64_t group, Consume&& consume) {
  const BatchNormShape& s = a.shape;
  const int64_t width = a.width, out_h = a.height / 2, out_w = a.width / 2;
  const int64_t out_plane = out_h * out_w;
  // The pooled gradient's 16 planes, blocked like x.
  const float* pooled =
      static_cast<const float*>(a.pooled_grad) + (n * s.c + group * kGroup) * out_plane;
  float* g = thread_buffer(1, out_plane * kGroup);
  for (int c = 0; c < kGroup; ++c)
    for (int64_t o = 0; o < out_plane; ++o) g[o * kGroup + c] = pooled[c * out_plane + o];
  float* rows = thread_buffer(0, 2 * width * kGroup);
  if (width % 2 != 0) {  // the last column is in no window
    std::fill_n(rows + (width - 1) * kGroup, kGroup, 0.0f);
    std::fill_n(rows + (2 * width - 1) * kGroup, kGroup, 0.0f);
  }
  float best[kGroup], grad[kGroup];
  int at[kGroup];
  for (int64_t oh = 0; oh < out_h; ++oh) {
    const float* x_rows = x + 2 * oh * width * kGroup;
    for (int64_t ow = 0; ow < out_w; ++ow) {
      const Window window(0, ow, width);  // in the two rows
      window.maxima(x_rows, p, best, at);
      const float* window_g = g + (oh * out_w + ow) * kGroup;
#pragma omp simd
      for (int c = 0; c < kGroup; ++c) grad[c] = best[c] > 0.0f ? 0.0f + window_g[c] : 0.0f;
      for (int j = 0; j < 4; ++j) {
        float* out = rows + window.pixel[j] * kGroup;
#pragma omp simd
        for (int c = 0; c < kGroup; ++c) out[c] = at[c] == j ? grad[c] : 0.0f;
      }
    }
    consume(2 * oh * width, rows, 2 * width);
  }
  if (a.height % 2 != 0) {  // the last row is in no window
    std::fill_n(rows, width * kGroup, 0.0f);
    consume((a.height - 1) * width, rows, width);
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
  float* pooled = thread_buffer(0, out_plane * kGroup);  // blocked, then written out per channel
  int at[kGroup];
  for (int64_t oh = 0; oh < out_h; ++oh) {
    for (int64_t ow = 0; ow < out_w; ++ow)
      Window(oh, ow, a.width).maxima(x, p, pooled + (oh * out_w + ow) * kGroup, at);
  }
  float* out = static_cast<float*>(a.pooled) + (n * s.c + group * kGroup) * out_plane;
  for (int c = 0; c < kGroup; ++c)
    for (int64_t o = 0; o < out_plane; ++o) out[c * out_plane + o] = pooled[o * kGroup + c];
}

TG_ISA_CLONES void backward_summary_of(const BatchNormBackwardArgs& a, Blocks blocks, int64_t b,
                                       int64_t group, double* summaries) {
  const BatchNormShape& s = a.shape;
  const GroupParams p(a.mean, a.invstd, a.gamma, a.beta, group);
  const int64_t n0 = b * blocks.samples, n1 = std::min(s.n, n0 + blocks.samples);
  double mean[kGroup];
  for (int c = 0; c < kGroup; ++c) mean[c] = p.mean[c];
  double lanes_a[kLanes][kGroup] = {}, lanes_b[kLanes][kGroup] = {};
  for (int64_t n = n0; n < n1; ++n) {
    const float* x = planes_of(a.x, s, n, group);
    for_gated_rows(a, p, x, n, group, [&](int64_t k0, const float* g, int64_t count) {
      const float* xk = x + k0 * kGroup;
      for (int64_t i = 0; i < count; ++i) {
        double* lane_a = lanes_a[(k0 + i) % kLanes];
        double* lane_b = lanes_b[(k0 + i) % kLanes];
        for (int c = 0; c < kGroup; ++c) {
          const double gk = g[i * kGroup + c];
          lane_a[c] += gk;
          lane_b[c] += gk * (static_cast<double>(xk[i * kGroup + c]) - mean[c]);
        }
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

TG_ISA_CLONES void backward_planes_of(const BatchNormBackwardArgs& a,
                                      const ChannelTerms<float>* terms, int64_t n, int64_t group) {
  const BatchNormShape& s = a.shape;
  const GroupParams p(a.mean, a.invstd, a.gamma, a.beta, group);
  const float* x = planes_of(a.x, s, n, group);
  float scale[kGroup], mean_g[kGroup], mean_g_xhat[kGroup];
  for (int c = 0; c < kGroup; ++c) {
    const ChannelTerms<float>& t = terms[group * kGroup + c];
    scale[c] = t.scale;
    mean_g[c] = t.mean_g;
    mean_g_xhat[c] = t.mean_g_xhat;
  }
  float* grad_x = static_cast<float*>(a.grad_x) + (x - static_cast<const float*>(a.x));
  for_gated_rows(a, p, x, n, group, [&](int64_t k0, const float* g, int64_t count) {
    const float* xk = x + k0 * kGroup;
    float* dx = grad_x + k0 * kGroup;
    for (int64_t i = 0; i < count * kGroup; i += kGroup) {
      for (int c = 0; c < kGroup; ++c) {
        dx[i + c] = batchnorm_backward_element(g[i + c], xk[i + c], p.mean[c], p.invstd[c],
                                               scale[c], mean_g[c], mean_g_xhat[c], a.training);
      }
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
void backward_planes(const BatchNormBackwardArgs& a, const ChannelTerms<float>* terms, int64_t n,
                     int64_t group) {
  backward_planes_of(a, terms, n, group);
}

}  // namespace tg::kernels::cpu::batch_norm_blocked
