// CPU launchers of batch normalisation (kernels/batch_norm.h), in three stages each (Note
// [batch norm blocks]): summaries per (block of the batch, channel), merged per channel in
// block order, then the element pass. Statistics in double. With a fused ReLU (Note [batch
// norm + relu]) the forward's element pass applies it and the backward gates g; with pooling
// too (Note [batch norm + relu + pool]) the element pass writes the pooled planes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../batch_norm.h"
#include "batch_norm_blocked.h"
#include "batch_norm_lanes.h"
#include "isa_clones.h"
#include "pool_rows.h"

namespace tg::kernels::cpu {

namespace {

using namespace batch_norm_parts;

// Forward stage 1: (mean, M2) of block b's elements of channel c.
template <typename T>
inline void forward_summary(const BatchNormForwardArgs& a, Blocks blocks, int64_t b, int64_t c,
                            double* out) {
  const BatchNormShape& s = a.shape;
  const T* __restrict__ x = static_cast<const T*>(a.x);
  const int64_t n0 = b * blocks.samples, n1 = std::min(s.n, n0 + blocks.samples);
  const double count = static_cast<double>((n1 - n0) * s.hw);
  const double mean = run_sum(s, c, n0, n1, [&](int64_t i) { return double(x[i]); }) / count;
  out[0] = mean;
  out[1] = run_sum(s, c, n0, n1, [&](int64_t i) { return (x[i] - mean) * (x[i] - mean); });
}

// Forward stage 2: channel c's statistics from its blocks' summaries (training) or the running
// ones (eval), into save_mean and save_invstd.
template <typename T>
void forward_channel(const BatchNormForwardArgs& a, Blocks blocks, const double* summaries,
                     int64_t c) {
  const BatchNormShape& s = a.shape;
  T* running_mean = static_cast<T*>(a.running_mean);
  T* running_var = static_cast<T*>(a.running_var);
  T mean, invstd;
  if (a.training) {
    double count = 0, m = 0, m2 = 0;
    for (int64_t b = 0; b < blocks.count; ++b) {
      const int64_t samples = std::min(blocks.samples, s.n - b * blocks.samples);
      const double* summary = summaries + 2 * (b * s.c + c);
      merge_moments(count, m, m2, static_cast<double>(samples * s.hw), summary[0], summary[1]);
    }
    const double var = count > 0 ? m2 / count : 0.0;
    mean = static_cast<T>(m);
    invstd = static_cast<T>(1.0 / std::sqrt(var + a.eps));
    if (running_mean != nullptr) {
      update_running(&running_mean[c], &running_var[c], mean, static_cast<T>(var), s.count(),
                     a.momentum);
    }
  } else {
    mean = running_mean[c];
    invstd = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + a.eps));
  }
  static_cast<T*>(a.save_mean)[c] = mean;
  static_cast<T*>(a.save_invstd)[c] = invstd;
}

// A thread's buffer of at least `size` elements (a plane being made, Note [batch norm + relu +
// pool]); it only grows.
template <typename T>
T* thread_plane(int64_t size) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < static_cast<size_t>(size)) buffer.resize(static_cast<size_t>(size));
  return buffer.data();
}

// Forward stage 3: sample n's run of channel c into y; with pooling (Note [batch norm + relu +
// pool]) into a thread's buffer (one long loop: the rows are too short to vectorise one by
// one), pooled from there.
template <typename T>
inline void forward_run(const BatchNormForwardArgs& a, int64_t n, int64_t c) {
  const BatchNormShape& s = a.shape;
  const int64_t run = n * s.c + c;
  const T* __restrict__ x = static_cast<const T*>(a.x) + run * s.hw;
  T* __restrict__ y =
      a.pooled == nullptr ? static_cast<T*>(a.y) + run * s.hw : thread_plane<T>(s.hw);
  const T* gamma = static_cast<const T*>(a.gamma);
  const T* beta = static_cast<const T*>(a.beta);
  const T mean = static_cast<const T*>(a.save_mean)[c];
  const T invstd = static_cast<const T*>(a.save_invstd)[c];
  if (a.relu) {
    for (int64_t k = 0; k < s.hw; ++k)
      y[k] = relu_element(batchnorm_element(x[k], mean, invstd, gamma, beta, c));
  } else {
    for (int64_t k = 0; k < s.hw; ++k) y[k] = batchnorm_element(x[k], mean, invstd, gamma, beta, c);
  }
  if (a.pooled == nullptr) return;
  const int64_t width = a.width, out_h = a.height / 2, out_w = a.width / 2;
  T* pooled = static_cast<T*>(a.pooled) + run * out_h * out_w;
  int64_t* argmax = a.argmax + run * out_h * out_w;
  for (int64_t oh = 0; oh < out_h; ++oh) {
    const int64_t top = 2 * oh * width;
    max_pool_2x2_rows(y + top, width, out_w, top, pooled + oh * out_w, argmax + oh * out_w);
  }
}

// Backward stage 1: Σg and Σg·(x - mean) of block b's elements of channel c.
template <typename T, bool Relu>
inline void backward_summary(const BatchNormBackwardArgs& a, Blocks blocks, int64_t b, int64_t c,
                             double* out) {
  const BatchNormShape& s = a.shape;
  const T* __restrict__ x = static_cast<const T*>(a.x);
  const GatedGrad<T, Relu> g(a, c);
  const double mean = static_cast<const T*>(a.mean)[c];
  const int64_t n0 = b * blocks.samples, n1 = std::min(s.n, n0 + blocks.samples);
  run_sums(
      s, c, n0, n1, [&](int64_t i) { return double(g(i)); },
      [&](int64_t i) { return static_cast<double>(g(i)) * (static_cast<double>(x[i]) - mean); },
      &out[0], &out[1]);
}

// The pooled backward (Note [batch norm + relu + pool]): sample n's plane of channel c of the
// output gradient, made from the pooled output's by pool2d_backward's rule (0, then each
// pooled gradient added at its argmax) into a thread's buffer. (Writing each window's four
// elements in AVX-512 lanes instead, no zeroing, was slower: the rows are 3 to 14 outputs.)
template <typename T>
const T* unpooled_plane(const BatchNormBackwardArgs& a, int64_t n, int64_t c) {
  const BatchNormShape& s = a.shape;
  T* plane = thread_plane<T>(s.hw);
  const int64_t p = n * s.c + c, out_plane = (a.height / 2) * (a.width / 2);
  const T* g = static_cast<const T*>(a.pooled_grad) + p * out_plane;
  const int64_t* at = a.argmax + p * out_plane;
  std::fill_n(plane, s.hw, T(0));
  for (int64_t o = 0; o < out_plane; ++o) plane[at[o]] += g[o];
  return plane;
}

// Backward stage 1 of the pooled backward: backward_summary's sums, in its lanes and order,
// over planes made by unpooled_plane.
template <typename T, bool Relu>
inline void backward_summary_pooled(const BatchNormBackwardArgs& a, Blocks blocks, int64_t b,
                                    int64_t c, double* out) {
  const BatchNormShape& s = a.shape;
  const double mean = static_cast<const T*>(a.mean)[c];
  const int64_t n0 = b * blocks.samples, n1 = std::min(s.n, n0 + blocks.samples);
  double lanes_a[kLanes] = {}, lanes_b[kLanes] = {};
  for (int64_t n = n0; n < n1; ++n) {
    const T* __restrict__ x = static_cast<const T*>(a.x) + (n * s.c + c) * s.hw;
    const GatedGrad<T, Relu> g(a, c, x, unpooled_plane<T>(a, n, c));
    const auto term_b = [&](int64_t k) {
      return static_cast<double>(g(k)) * (static_cast<double>(x[k]) - mean);
    };
    int64_t k = 0;
    for (; k + kLanes <= s.hw; k += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        lanes_a[l] += double(g(k + l));
        lanes_b[l] += term_b(k + l);
      }
    }
    for (; k < s.hw; ++k) {
      lanes_a[k % kLanes] += double(g(k));
      lanes_b[k % kLanes] += term_b(k);
    }
  }
  out[0] = 0;
  out[1] = 0;
  for (int l = 0; l < kLanes; ++l) {
    out[0] += lanes_a[l];
    out[1] += lanes_b[l];
  }
}

// Backward stage 2: channel c's parameter gradients and input-gradient terms.
template <typename T>
ChannelTerms<T> backward_channel(const BatchNormBackwardArgs& a, Blocks blocks,
                                 const double* summaries, int64_t c) {
  const BatchNormShape& s = a.shape;
  const T* gamma = static_cast<const T*>(a.gamma);
  const T invstd = static_cast<const T*>(a.invstd)[c];
  double sum_g = 0, sum_g_centred = 0;
  for (int64_t b = 0; b < blocks.count; ++b) {
    sum_g += summaries[2 * (b * s.c + c)];
    sum_g_centred += summaries[2 * (b * s.c + c) + 1];
  }
  const double sum_g_xhat = sum_g_centred * static_cast<double>(invstd);
  if (a.grad_beta != nullptr) static_cast<T*>(a.grad_beta)[c] = static_cast<T>(sum_g);
  if (a.grad_gamma != nullptr) static_cast<T*>(a.grad_gamma)[c] = static_cast<T>(sum_g_xhat);
  const T count = static_cast<T>(s.count());
  return {(gamma != nullptr ? gamma[c] : T(1)) * invstd, static_cast<T>(sum_g) / count,
          static_cast<T>(sum_g_xhat) / count};
}

// Backward stage 3: sample n's run of channel c of the input gradient.
template <typename T, bool Relu>
inline void backward_run(const BatchNormBackwardArgs& a, const ChannelTerms<T>& t, int64_t n,
                         int64_t c) {
  const BatchNormShape& s = a.shape;
  const int64_t base = (n * s.c + c) * s.hw;
  const T* __restrict__ x = static_cast<const T*>(a.x) + base;
  T* __restrict__ grad_x = static_cast<T*>(a.grad_x) + base;
  const GatedGrad<T, Relu> g(a, c, x,
                             a.pooled_grad != nullptr ? unpooled_plane<T>(a, n, c)
                                                      : static_cast<const T*>(a.grad_y) + base);
  const T mean = g.mean, invstd = g.invstd;
  for (int64_t k = 0; k < s.hw; ++k) {
    grad_x[k] = batchnorm_backward_element(g(k), x[k], mean, invstd, t.scale, t.mean_g,
                                           t.mean_g_xhat, a.training);
  }
}

// Note [wider lanes for batch norm]
// The per-(block, channel) and per-run functions compiled per x86-64 level (TG_ISA_CLONES):
// eight double lanes are one AVX-512 register instead of four SSE2 ones. The same additions
// in the same lanes, so the same bits on every level.
TG_ISA_CLONES void forward_summary_of(const BatchNormForwardArgs& a, Blocks blocks, int64_t b,
                                      int64_t c, double* out, float) {
  forward_summary<float>(a, blocks, b, c, out);
}
TG_ISA_CLONES void forward_summary_of(const BatchNormForwardArgs& a, Blocks blocks, int64_t b,
                                      int64_t c, double* out, double) {
  forward_summary<double>(a, blocks, b, c, out);
}
TG_ISA_CLONES void forward_run_of(const BatchNormForwardArgs& a, int64_t n, int64_t c, float) {
  forward_run<float>(a, n, c);
}
TG_ISA_CLONES void forward_run_of(const BatchNormForwardArgs& a, int64_t n, int64_t c, double) {
  forward_run<double>(a, n, c);
}
TG_ISA_CLONES void backward_summary_of(const BatchNormBackwardArgs& a, Blocks blocks, int64_t b,
                                       int64_t c, double* out, float) {
  if (a.pooled_grad != nullptr) {
    if (a.relu) return backward_summary_pooled<float, true>(a, blocks, b, c, out);
    return backward_summary_pooled<float, false>(a, blocks, b, c, out);
  }
  if (a.relu) return backward_summary<float, true>(a, blocks, b, c, out);
  backward_summary<float, false>(a, blocks, b, c, out);
}
TG_ISA_CLONES void backward_summary_of(const BatchNormBackwardArgs& a, Blocks blocks, int64_t b,
                                       int64_t c, double* out, double) {
  if (a.pooled_grad != nullptr) {
    if (a.relu) return backward_summary_pooled<double, true>(a, blocks, b, c, out);
    return backward_summary_pooled<double, false>(a, blocks, b, c, out);
  }
  if (a.relu) return backward_summary<double, true>(a, blocks, b, c, out);
  backward_summary<double, false>(a, blocks, b, c, out);
}
TG_ISA_CLONES void backward_run_of(const BatchNormBackwardArgs& a, const ChannelTerms<float>& t,
                                   int64_t n, int64_t c) {
  if (a.relu) return backward_run<float, true>(a, t, n, c);
  backward_run<float, false>(a, t, n, c);
}
TG_ISA_CLONES void backward_run_of(const BatchNormBackwardArgs& a, const ChannelTerms<double>& t,
                                   int64_t n, int64_t c) {
  if (a.relu) return backward_run<double, true>(a, t, n, c);
  backward_run<double, false>(a, t, n, c);
}

// Blocked data (Note [conv block]): float32, with the ReLU and the pooling, 16 channels apiece.
void check_blocked(DType dtype, const BatchNormShape& s, bool relu, const void* pooled,
                   const int64_t* argmax, const uint8_t* window_codes) {
  TG_CHECK(dtype == DType::Float32 && s.c % batch_norm_blocked::kGroup == 0 && relu &&
               pooled != nullptr && argmax == nullptr && window_codes != nullptr,
           "batch_norm: blocked data must be float32 with channels a multiple of 16, the ReLU "
           "and the pooling, window codes and no argmax");
}

}  // namespace

void batchnorm_forward(const BatchNormForwardArgs& a) {
  const BatchNormShape& s = a.shape;
  if (a.blocked) check_blocked(a.dtype, s, a.relu, a.pooled, a.argmax, a.window_codes);
  const Blocks blocks = blocks_of(s);
  std::vector<double> summaries(a.training ? 2 * blocks.count * s.c : 0);
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    // What stages 1 and 3 take apiece: a channel, or a group of 16 when blocked.
    const int64_t groups = a.blocked ? s.c / batch_norm_blocked::kGroup : s.c;
    const int64_t pairs = blocks.count * groups, runs = s.n * groups;
#pragma omp parallel
    {
      if (a.training) {
#pragma omp for schedule(static)
        for (int64_t i = 0; i < pairs; ++i) {
          if (a.blocked) {
            batch_norm_blocked::forward_summary(a, blocks, i / groups, i % groups,
                                                summaries.data());
          } else {
            forward_summary_of(a, blocks, i / s.c, i % s.c, &summaries[2 * i], tag);
          }
        }
      }
#pragma omp for schedule(static)
      for (int64_t c = 0; c < s.c; ++c) forward_channel<T>(a, blocks, summaries.data(), c);
#pragma omp for schedule(static)
      for (int64_t i = 0; i < runs; ++i) {
        if (a.blocked) {
          batch_norm_blocked::forward_planes(a, i / groups, i % groups);
        } else {
          forward_run_of(a, i / s.c, i % s.c, tag);
        }
      }
    }
  });
}

void batchnorm_backward(const BatchNormBackwardArgs& a) {
  const BatchNormShape& s = a.shape;
  if (a.blocked) check_blocked(a.dtype, s, a.relu, a.pooled_grad, a.argmax, a.window_codes);
  TG_CHECK(a.terms == nullptr || a.blocked, "batch_norm: the terms are kept for blocked data only");
  const Blocks blocks = blocks_of(s);
  std::vector<double> summaries(2 * blocks.count * s.c);
  // Blocked, the element pass reads the terms as floats: the caller's, or these.
  std::vector<float> own(a.blocked && a.terms == nullptr ? 3 * s.c : 0);
  float* const kept = a.terms != nullptr ? a.terms : (a.blocked ? own.data() : nullptr);
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<ChannelTerms<T>> terms(s.c);
    const int64_t groups = a.blocked ? s.c / batch_norm_blocked::kGroup : s.c;
    const int64_t pairs = blocks.count * groups, runs = s.n * groups;
#pragma omp parallel
    {
#pragma omp for schedule(static)
      for (int64_t i = 0; i < pairs; ++i) {
        if (a.blocked) {
          batch_norm_blocked::backward_summary(a, blocks, i / groups, i % groups, summaries.data());
        } else {
          backward_summary_of(a, blocks, i / s.c, i % s.c, &summaries[2 * i], tag);
        }
      }
#pragma omp for schedule(static)
      for (int64_t c = 0; c < s.c; ++c) {
        terms[c] = backward_channel<T>(a, blocks, summaries.data(), c);
        if (kept != nullptr) {
          kept[3 * c] = static_cast<float>(terms[c].scale);
          kept[3 * c + 1] = static_cast<float>(terms[c].mean_g);
          kept[3 * c + 2] = static_cast<float>(terms[c].mean_g_xhat);
        }
      }
      if (a.grad_x != nullptr) {
#pragma omp for schedule(static)
        for (int64_t i = 0; i < runs; ++i) {
          if constexpr (std::is_same_v<T, float>) {
            if (a.blocked) {
              const int64_t n = i / groups, group = i % groups;
              batch_norm_blocked::backward_planes(
                  a, kept, n, group,
                  static_cast<float*>(a.grad_x) +
                      (n * s.c + group * batch_norm_blocked::kGroup) * s.hw);
              continue;
            }
          }
          backward_run_of(a, terms[i % s.c], i / s.c, i % s.c);
        }
      }
    }
  });
}

void batchnorm_backward_samples(const BatchNormBackwardArgs& a, int64_t n0, int64_t n1,
                                void* grad_x) {
  const BatchNormShape& s = a.shape;
  check_blocked(a.dtype, s, a.relu, a.pooled_grad, a.argmax, a.window_codes);
  TG_CHECK(a.terms != nullptr && grad_x != nullptr && 0 <= n0 && n0 <= n1 && n1 <= s.n,
           "batch_norm: samples [", n0, ", ", n1, ") of ", s.n, " need the terms and grad_x");
  for (int64_t n = n0; n < n1; ++n) {
    for (int64_t group = 0; group < s.c / batch_norm_blocked::kGroup; ++group) {
      batch_norm_blocked::backward_planes(
          a, a.terms, n, group,
          static_cast<float*>(grad_x) +
              ((n - n0) * s.c + group * batch_norm_blocked::kGroup) * s.hw);
    }
  }
}

}  // namespace tg::kernels::cpu
