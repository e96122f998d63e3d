// Naive clipping references (tests only), written from the papers and their reference code
// and sharing nothing with kernels/: unit-wise adaptive clipping as timm's
// adaptive_clip_grad, AutoClip's percentile as numpy.percentile over a sorted copy, and a
// ZClip-style z-score rule as the text of kernels/history_clip.h.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace tg::reference {

// g of each unit [starts[u], starts[u+1]) scaled to at most lambda·max(‖w_u‖, eps).
inline void unit_clip(const std::vector<double>& w, std::vector<double>& g,
                      const std::vector<long>& starts, double lambda, double eps) {
  for (size_t u = 0; u + 1 < starts.size(); ++u) {
    double wn = 0, gn = 0;
    for (long i = starts[u]; i < starts[u + 1]; ++i) {
      wn += w[i] * w[i];
      gn += g[i] * g[i];
    }
    wn = std::sqrt(wn);
    gn = std::sqrt(gn);
    const double max_norm = lambda * std::max(wn, eps);
    if (gn < max_norm) continue;
    for (long i = starts[u]; i < starts[u + 1]; ++i) g[i] = g[i] * (max_norm / std::max(gn, 1e-6));
  }
}

// numpy.percentile's default (linear) over values.
inline double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double position = q / 100.0 * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(position));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (position - static_cast<double>(lo));
}

// The clip coefficient global-norm clipping applies for a threshold.
inline double clip_scale(double threshold, double norm) {
  return std::min(1.0, threshold / (norm + 1e-6));
}

struct AutoClipRef {
  double q;
  size_t window;
  std::vector<double> recent{};
  double scale(double norm) {
    recent.push_back(norm);
    if (recent.size() > window) recent.erase(recent.begin());
    return clip_scale(percentile(recent, q), norm);
  }
};

struct ZClipRef {
  double z, beta;
  int warmup;
  std::vector<double> seen{};
  double mean = 0, var = 0;
  double scale(double norm) {
    if (static_cast<int>(seen.size()) < warmup) {
      seen.push_back(norm);
      mean = 0;
      for (double n : seen) mean += n;
      mean /= static_cast<double>(seen.size());
      var = 0;
      for (double n : seen) var += (n - mean) * (n - mean);
      var /= static_cast<double>(seen.size());
      return 1.0;
    }
    seen.push_back(norm);
    const double limit = mean + z * std::sqrt(var);
    const double kept = std::min(norm, limit);
    mean = beta * mean + (1 - beta) * kept;
    var = beta * var + (1 - beta) * (kept - mean) * (kept - mean);
    return norm > limit ? clip_scale(limit, norm) : 1.0;
  }
};

}  // namespace tg::reference
