// History-based clipping of the global gradient norm: the threshold comes from the run's
// own recent norms, kept on the device (HistoryClipOptions, foundation/hyperparams.h).
// Runs after global_grad_norm has written this step's norm (measuring only), and writes
// the scale the next fused update applies (Note [step control], kernels/update_common.h):
//   Percentile (AutoClip, Seetharaman et al. 2020): the norm joins a ring of the last
//     `window` norms; threshold = their `percentile`-th percentile, interpolated linearly
//     between order statistics as numpy.percentile (AutoClip's reference code);
//   ZScore (ZClip-style, Kumar et al. 2025): for `warmup` steps the norms only set the
//     mean and variance (Welford); after, with std = sqrt(var), a norm above mean + z·std
//     is clipped to that, and the clipped norm moves the moments:
//     mean ← β·mean + (1-β)·n,  var ← β·var + (1-β)·(n - mean)²;
//   then scale = min(1, threshold / (norm + 1e-6)), as global-norm clipping's coefficient.
// A non-finite norm (the step will be skipped) leaves the history as it was.
//
// Front-end: core/ops/grad_norm.cpp (history_clip_). Tests: tests/unit/clipping_test.cpp,
// tests/golden/clip_golden_test.cpp (numpy's percentile), tests/cuda/clipping_parity_test.cpp.
#pragma once

#include <cmath>
#include <cstdint>

#include "../foundation/hyperparams.h"
#include "common.h"

namespace tg::kernels {

constexpr int64_t kMaxHistoryWindow = 4096;

struct HistoryClipArgs {
  optim::HistoryClipOptions options;
  const double* norm;   // () this step's global norm
  const uint8_t* skip;  // () 1 when the norm is not finite
  double* scale;        // () written
  double* threshold;    // () written: the threshold this step used (+inf: none yet)
  double* history;      // (window,) ring of recorded norms
  int64_t* seen;        // () norms recorded so far
  double* mean;         // () ZScore's moments
  double* var;
};

// Records the norm (Percentile); returns how many recorded norms the percentile is taken
// over (0 when nothing is to be selected). One thread.
TG_HOST_DEVICE int64_t history_record(const HistoryClipArgs& a) {
  if (*a.skip != 0 || a.options.rule != optim::HistoryRule::Percentile) return 0;
  const int64_t window = a.options.window;
  a.history[*a.seen % window] = *a.norm;
  *a.seen += 1;
  return *a.seen < window ? *a.seen : window;
}

// The two order statistics the percentile of n values interpolates between, and the weight.
TG_HOST_DEVICE void percentile_ranks(double percentile, int64_t n, int64_t* lo, int64_t* hi,
                                     double* fraction) {
  const double position = percentile / 100.0 * static_cast<double>(n - 1);
  *lo = static_cast<int64_t>(std::floor(position));
  *hi = *lo + 1 < n ? *lo + 1 : *lo;
  *fraction = position - static_cast<double>(*lo);
}

// Writes threshold and scale (and moves ZScore's moments); `lo_value` and `hi_value` are the
// order statistics of percentile_ranks (Percentile only). One thread.
TG_HOST_DEVICE void history_finish(const HistoryClipArgs& a, double lo_value, double hi_value) {
  const double norm = *a.norm;
  if (*a.skip != 0) {
    *a.scale = 1.0;
    return;
  }
  const optim::HistoryClipOptions& o = a.options;
  double threshold = HUGE_VAL;
  if (o.rule == optim::HistoryRule::Percentile) {
    int64_t lo = 0, hi = 0;
    double fraction = 0;
    const int64_t n = *a.seen < o.window ? *a.seen : o.window;
    percentile_ranks(o.percentile, n, &lo, &hi, &fraction);
    threshold = lo_value + (hi_value - lo_value) * fraction;
  } else if (*a.seen < o.warmup) {
    const double count = static_cast<double>(*a.seen + 1);
    const double delta = norm - *a.mean;
    *a.mean += delta / count;
    // var holds the population variance of the warm-up norms so far.
    *a.var += (delta * (norm - *a.mean) - *a.var) / count;
    *a.seen += 1;
  } else {
    const double deviation = std::sqrt(*a.var);
    const double limit = *a.mean + o.z * deviation;
    const double kept = norm > limit ? limit : norm;
    threshold = norm > limit ? limit : HUGE_VAL;
    *a.mean = o.beta * *a.mean + (1 - o.beta) * kept;
    *a.var = o.beta * *a.var + (1 - o.beta) * (kept - *a.mean) * (kept - *a.mean);
    *a.seen += 1;
  }
  *a.threshold = threshold;
  double scale = 1.0;
  if (threshold < HUGE_VAL) {
    const double c = threshold / (norm + 1e-6);
    scale = c < 1.0 ? c : 1.0;
  }
  *a.scale = scale;
}

namespace cpu {
void history_clip(const HistoryClipArgs& args);
}  // namespace cpu
namespace cuda {
void history_clip(const HistoryClipArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
