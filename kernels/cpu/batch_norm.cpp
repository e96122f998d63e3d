// CPU launchers of batch normalisation (kernels/batch_norm.h): OpenMP over channels, each
// channel's statistics in double (two passes: mean, then squared deviations). A channel is
// walked as N contiguous runs of HW elements, its sums in interleaved lanes (channel_sum).
#include <cmath>

#include "../batch_norm.h"

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

template <typename T>
void forward(const BatchNormForwardArgs& a) {
  const BatchNormShape& s = a.shape;
  const T* x = static_cast<const T*>(a.x);
  T* y = static_cast<T*>(a.y);
  const T* gamma = static_cast<const T*>(a.gamma);
  const T* beta = static_cast<const T*>(a.beta);
  T* running_mean = static_cast<T*>(a.running_mean);
  T* running_var = static_cast<T*>(a.running_var);
  T* save_mean = static_cast<T*>(a.save_mean);
  T* save_invstd = static_cast<T*>(a.save_invstd);
  const int64_t count = s.count();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < s.c; ++c) {
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
    save_mean[c] = mean;
    save_invstd[c] = invstd;
    for (int64_t n = 0; n < s.n; ++n) {
      const int64_t base = (n * s.c + c) * s.hw;
      for (int64_t k = 0; k < s.hw; ++k)
        y[base + k] = batchnorm_element(x[base + k], mean, invstd, gamma, beta, c);
    }
  }
}

template <typename T>
void backward(const BatchNormBackwardArgs& a) {
  const BatchNormShape& s = a.shape;
  const T* x = static_cast<const T*>(a.x);
  const T* g = static_cast<const T*>(a.grad_y);
  const T* gamma = static_cast<const T*>(a.gamma);
  const T* mean = static_cast<const T*>(a.mean);
  const T* invstd = static_cast<const T*>(a.invstd);
  T* grad_x = static_cast<T*>(a.grad_x);
  T* grad_gamma = static_cast<T*>(a.grad_gamma);
  T* grad_beta = static_cast<T*>(a.grad_beta);
  const int64_t count = s.count();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < s.c; ++c) {
    const double sum_g = channel_sum(s, c, [&](int64_t i) { return double(g[i]); });
    const double mean_c = mean[c], invstd_c = invstd[c];
    const double sum_g_xhat = channel_sum(s, c, [&](int64_t i) {
      return static_cast<double>(g[i]) * (static_cast<double>(x[i]) - mean_c) * invstd_c;
    });
    if (grad_beta != nullptr) grad_beta[c] = static_cast<T>(sum_g);
    if (grad_gamma != nullptr) grad_gamma[c] = static_cast<T>(sum_g_xhat);
    if (grad_x == nullptr) continue;
    const T gamma_c = gamma != nullptr ? gamma[c] : T(1);
    for (int64_t n = 0; n < s.n; ++n) {
      const int64_t base = (n * s.c + c) * s.hw;
      for (int64_t k = 0; k < s.hw; ++k) {
        grad_x[base + k] = batchnorm_backward_element(
            g[base + k], x[base + k], mean[c], invstd[c], gamma_c, static_cast<T>(sum_g),
            static_cast<T>(sum_g_xhat), static_cast<T>(count), a.training);
      }
    }
  }
}

}  // namespace

void batchnorm_forward(const BatchNormForwardArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) { forward<decltype(tag)>(args); });
}

void batchnorm_backward(const BatchNormBackwardArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) { backward<decltype(tag)>(args); });
}

}  // namespace tg::kernels::cpu
