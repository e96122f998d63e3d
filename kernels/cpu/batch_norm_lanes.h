// The CPU batch norm's sums and gate (kernels/cpu/batch_norm.cpp's building blocks): the
// batch cut into blocks of samples, the sums in interleaved double lanes (Note [batch norm
// blocks]), and the output gradient gated by a fused ReLU (Note [batch norm + relu]). Included
// by that file only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../batch_norm.h"

namespace tg::kernels::cpu::batch_norm_parts {

// Note [batch norm blocks]
// A channel's elements are N runs of HW, one per sample, C·HW elements apart. Walking one
// channel at a time (as this file did) jumps between those runs, and every jump waits on
// memory: the prefetcher follows streams, not 784-byte runs 50 KiB apart. So the batch is cut
// into blocks of whole samples, of a size taken from the shape alone (at least kBlockElements
// of a channel per block), and every pass runs over (block, channel) pairs in memory order,
// each thread a contiguous range of them: a block's samples are read as a few sequential
// streams.
//   stage 1: each (block, channel) summarises its elements: count, mean and M2 (two passes
//            over runs that now sit in L1) in the forward; Σg and Σg·(x - mean) in the backward;
//   stage 2: each channel merges its blocks' summaries in block order (Chan et al.'s
//            merge_moments for the moments, plain sums for the backward);
//   stage 3: the element pass over (sample, channel) runs.
// Every sum's order depends on the shape only, so results do not depend on the thread count.
// Sums inside a (block, channel) go to kLanes interleaved double lanes (element k of a run to
// lane k mod kLanes, added together in lane order at the end): short chains the compiler
// vectorises.
constexpr int kLanes = 8;
constexpr int64_t kBlockElements = 512;

struct Blocks {
  int64_t samples;  // per block (the last may have fewer)
  int64_t count;
};

inline Blocks blocks_of(const BatchNormShape& s) {
  if (s.n == 0 || s.hw == 0) return {1, 0};
  const int64_t samples = std::min(s.n, std::max<int64_t>(1, (kBlockElements + s.hw - 1) / s.hw));
  return {samples, (s.n + samples - 1) / samples};
}

// Sums term(i) and, when given, term_b(i) over channel c's runs of samples [n0, n1).
template <typename TermA, typename TermB>
void run_sums(const BatchNormShape& s, int64_t c, int64_t n0, int64_t n1, TermA&& term_a,
              TermB&& term_b, double* total_a, double* total_b) {
  double lanes_a[kLanes] = {}, lanes_b[kLanes] = {};
  for (int64_t n = n0; n < n1; ++n) {
    const int64_t base = (n * s.c + c) * s.hw;
    int64_t k = 0;
    for (; k + kLanes <= s.hw; k += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        lanes_a[l] += term_a(base + k + l);
        lanes_b[l] += term_b(base + k + l);
      }
    }
    for (; k < s.hw; ++k) {
      lanes_a[k % kLanes] += term_a(base + k);
      lanes_b[k % kLanes] += term_b(base + k);
    }
  }
  *total_a = 0;
  *total_b = 0;
  for (int l = 0; l < kLanes; ++l) {
    *total_a += lanes_a[l];
    *total_b += lanes_b[l];
  }
}

template <typename Term>
double run_sum(const BatchNormShape& s, int64_t c, int64_t n0, int64_t n1, Term&& term) {
  double total = 0, unused = 0;
  run_sums(
      s, c, n0, n1, term, [](int64_t) { return 0.0; }, &total, &unused);
  return total;
}

// The input gradient's terms of one channel (batchnorm_backward_element).
template <typename T>
struct ChannelTerms {
  T scale, mean_g, mean_g_xhat;
};

// The output gradient as the batch norm sees it (relu_gated: Note [batch norm + relu]); the
// gate is a template argument so that the plain backward's loops carry no test. The gate's
// value is batchnorm_element's with γ and β read once (γ = 1 and β = 0 when absent: the same
// bits, but for +0 against -0, whose sign the gate does not see), so the loops vectorise.
template <typename T, bool Relu>
struct GatedGrad {
  GatedGrad(const BatchNormBackwardArgs& a, int64_t c)
      : GatedGrad(a, c, static_cast<const T*>(a.x), static_cast<const T*>(a.grad_y)) {}
  // Over x and g given (one plane's, for the pooled backward).
  GatedGrad(const BatchNormBackwardArgs& a, int64_t c, const T* x, const T* g)
      : x(x),
        g(g),
        mean(static_cast<const T*>(a.mean)[c]),
        invstd(static_cast<const T*>(a.invstd)[c]),
        gamma(a.gamma != nullptr ? static_cast<const T*>(a.gamma)[c] : T(1)),
        beta(a.beta != nullptr ? static_cast<const T*>(a.beta)[c] : T(0)) {}
  T operator()(int64_t i) const {
    if (!Relu) return g[i];
    // g or +0 by a bit mask: a select of floats here is left as a branch, not vectorised.
    using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    Bits bits;
    std::memcpy(&bits, &g[i], sizeof(T));
    bits &= Bits(0) - static_cast<Bits>((x[i] - mean) * invstd * gamma + beta > T(0));
    T gated;
    std::memcpy(&gated, &bits, sizeof(T));
    return gated;
  }
  const T* __restrict__ x;
  const T* __restrict__ g;
  T mean, invstd, gamma, beta;
};

}  // namespace tg::kernels::cpu::batch_norm_parts
