// CPU launchers of batch normalisation (kernels/batch_norm.h): OpenMP over channels, each
// channel's statistics in double (two passes: mean, then squared deviations; backward's two
// sums in one pass). A channel is walked as N contiguous runs of HW elements, its sums in
// interleaved lanes (channel_sum).
#include <cmath>

#include "../batch_norm.h"
#include "isa_clones.h"

namespace tg::kernels::cpu {

namespace {

// Sums term(i) over channel c's elements i (its N runs of HW) in kLanes interleaved double
// accumulators (element k of a run goes to lane k mod kLanes), added together in a fixed
// order at the end: one long chain of dependent additions becomes kLanes short ones that
// the compiler vectorises, and the result depends on the shape only, never on the threads.
constexpr int kLanes = 8;

template <typename Term>
double channel_sum(const BatchNormShape& s, int64_t c, Term&& term) {
  double lanes[kLanes] = {};
  for (int64_t n = 0; n < s.n; ++n) {
    const int64_t base = (n * s.c + c) * s.hw;
    int64_t k = 0;
    for (; k + kLanes <= s.hw; k += kLanes) {
      for (int l = 0; l < kLanes; ++l) lanes[l] += term(base + k + l);
    }
    for (; k < s.hw; ++k) lanes[k % kLanes] += term(base + k);
  }
  double total = 0;
  for (int l = 0; l < kLanes; ++l) total += lanes[l];
  return total;
}

// Both backward sums in one pass over the channel: the same lanes, in the same order, as two
// channel_sum calls would use.
template <typename TermA, typename TermB>
void channel_sums(const BatchNormShape& s, int64_t c, TermA&& term_a, TermB&& term_b,
                  double* total_a, double* total_b) {
  double lanes_a[kLanes] = {}, lanes_b[kLanes] = {};
  for (int64_t n = 0; n < s.n; ++n) {
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

// One channel's statistics (training) and outputs.
template <typename T>
inline void forward_channel(const BatchNormForwardArgs& a, int64_t c) {
  const BatchNormShape& s = a.shape;
  const T* __restrict__ x = static_cast<const T*>(a.x);
  T* __restrict__ y = static_cast<T*>(a.y);
  const T* gamma = static_cast<const T*>(a.gamma);
  const T* beta = static_cast<const T*>(a.beta);
  T* running_mean = static_cast<T*>(a.running_mean);
  T* running_var = static_cast<T*>(a.running_var);
  const int64_t count = s.count();
  T mean, invstd;
  if (a.training) {
    const double sum = channel_sum(s, c, [&](int64_t i) { return double(x[i]); });
    const double m = count > 0 ? sum / count : 0.0;
    const double squares = channel_sum(s, c, [&](int64_t i) { return (x[i] - m) * (x[i] - m); });
    const double var = count > 0 ? squares / count : 0.0;
    mean = static_cast<T>(m);
    invstd = static_cast<T>(1.0 / std::sqrt(var + a.eps));
    if (running_mean != nullptr) {
      update_running(&running_mean[c], &running_var[c], mean, static_cast<T>(var), count,
                     a.momentum);
    }
  } else {
    mean = running_mean[c];
    invstd = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + a.eps));
  }
  static_cast<T*>(a.save_mean)[c] = mean;
  static_cast<T*>(a.save_invstd)[c] = invstd;
  for (int64_t n = 0; n < s.n; ++n) {
    const int64_t base = (n * s.c + c) * s.hw;
    for (int64_t k = 0; k < s.hw; ++k)
      y[base + k] = batchnorm_element(x[base + k], mean, invstd, gamma, beta, c);
  }
}

// One channel's parameter gradients and input gradient.
template <typename T>
inline void backward_channel(const BatchNormBackwardArgs& a, int64_t c) {
  const BatchNormShape& s = a.shape;
  const T* __restrict__ x = static_cast<const T*>(a.x);
  const T* __restrict__ g = static_cast<const T*>(a.grad_y);
  const T* gamma = static_cast<const T*>(a.gamma);
  T* __restrict__ grad_x = static_cast<T*>(a.grad_x);
  T* grad_gamma = static_cast<T*>(a.grad_gamma);
  T* grad_beta = static_cast<T*>(a.grad_beta);
  const T mean = static_cast<const T*>(a.mean)[c], invstd = static_cast<const T*>(a.invstd)[c];
  const double mean_c = mean, invstd_c = invstd;
  double sum_g = 0, sum_g_xhat = 0;
  channel_sums(
      s, c, [&](int64_t i) { return double(g[i]); },
      [&](int64_t i) {
        return static_cast<double>(g[i]) * (static_cast<double>(x[i]) - mean_c) * invstd_c;
      },
      &sum_g, &sum_g_xhat);
  if (grad_beta != nullptr) grad_beta[c] = static_cast<T>(sum_g);
  if (grad_gamma != nullptr) grad_gamma[c] = static_cast<T>(sum_g_xhat);
  if (grad_x == nullptr) return;
  const T count = static_cast<T>(s.count());
  const T scale = (gamma != nullptr ? gamma[c] : T(1)) * invstd;
  const T mean_g = static_cast<T>(sum_g) / count, mean_g_xhat = static_cast<T>(sum_g_xhat) / count;
  for (int64_t n = 0; n < s.n; ++n) {
    const int64_t base = (n * s.c + c) * s.hw;
    for (int64_t k = 0; k < s.hw; ++k) {
      grad_x[base + k] = batchnorm_backward_element(g[base + k], x[base + k], mean, invstd, scale,
                                                    mean_g, mean_g_xhat, a.training);
    }
  }
}

// Note [wider lanes for batch norm]
// The channel functions compiled per x86-64 level (TG_ISA_CLONES): the statistics' eight
// double lanes are one AVX-512 register instead of four SSE2 ones. The same additions in the
// same lanes, so the same bits on every level.
TG_ISA_CLONES void forward_channel_of(const BatchNormForwardArgs& a, int64_t c, float) {
  forward_channel<float>(a, c);
}
TG_ISA_CLONES void forward_channel_of(const BatchNormForwardArgs& a, int64_t c, double) {
  forward_channel<double>(a, c);
}
TG_ISA_CLONES void backward_channel_of(const BatchNormBackwardArgs& a, int64_t c, float) {
  backward_channel<float>(a, c);
}
TG_ISA_CLONES void backward_channel_of(const BatchNormBackwardArgs& a, int64_t c, double) {
  backward_channel<double>(a, c);
}

}  // namespace

void batchnorm_forward(const BatchNormForwardArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < args.shape.c; ++c) forward_channel_of(args, c, tag);
  });
}

void batchnorm_backward(const BatchNormBackwardArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < args.shape.c; ++c) backward_channel_of(args, c, tag);
  });
}

}  // namespace tg::kernels::cpu
