// Naive optimizer references (tests only): textbook loops in double over std::vector,
// written from the papers' / PyTorch's documented formulas and sharing nothing with
// kernels/. State lives in the struct; step() applies one update to p given g.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace tg::reference {

struct Penalties {
  double l2 = 0, l1 = 0, decoupled = 0;
};

inline double sign_of(double x) { return x > 0 ? 1 : (x < 0 ? -1 : 0); }

// g + l2·p + l1·sign(p), after scaling g by the clip coefficient.
inline double penalized(double g, double p, double scale, const Penalties& r) {
  return g * scale + r.l2 * p + r.l1 * sign_of(p);
}

struct SGDRef {
  double lr, momentum = 0, dampening = 0;
  bool nesterov = false;
  Penalties pen{};
  std::vector<double> buf{};
  int t = 0;
  void step(std::vector<double>& p, const std::vector<double>& g, double scale = 1) {
    ++t;
    buf.resize(p.size(), 0.0);
    for (size_t i = 0; i < p.size(); ++i) {
      double d = penalized(g[i], p[i], scale, pen);
      p[i] *= 1 - lr * pen.decoupled;
      if (momentum != 0) {
        buf[i] = t == 1 ? d : momentum * buf[i] + (1 - dampening) * d;
        d = nesterov ? d + momentum * buf[i] : buf[i];
      }
      p[i] -= lr * d;
    }
  }
};

struct AdagradRef {
  double lr, lr_decay = 0, initial = 0, eps = 1e-10;
  Penalties pen{};
  std::vector<double> sum{};
  int t = 0;
  void step(std::vector<double>& p, const std::vector<double>& g, double scale = 1) {
    ++t;
    sum.resize(p.size(), initial);
    const double clr = lr / (1 + (t - 1) * lr_decay);
    for (size_t i = 0; i < p.size(); ++i) {
      const double d = penalized(g[i], p[i], scale, pen);
      p[i] *= 1 - clr * pen.decoupled;
      sum[i] += d * d;
      p[i] -= clr * d / (std::sqrt(sum[i]) + eps);
    }
  }
};

struct RMSpropRef {
  double lr, alpha = 0.99, eps = 1e-8, momentum = 0;
  bool centered = false;
  Penalties pen{};
  std::vector<double> sq{}, avg{}, buf{};
  void step(std::vector<double>& p, const std::vector<double>& g, double scale = 1) {
    sq.resize(p.size(), 0.0);
    avg.resize(p.size(), 0.0);
    buf.resize(p.size(), 0.0);
    for (size_t i = 0; i < p.size(); ++i) {
      const double d = penalized(g[i], p[i], scale, pen);
      p[i] *= 1 - lr * pen.decoupled;
      sq[i] = alpha * sq[i] + (1 - alpha) * d * d;
      double denom;
      if (centered) {
        avg[i] = alpha * avg[i] + (1 - alpha) * d;
        denom = std::sqrt(sq[i] - avg[i] * avg[i]) + eps;
      } else {
        denom = std::sqrt(sq[i]) + eps;
      }
      if (momentum > 0) {
        buf[i] = momentum * buf[i] + d / denom;
        p[i] -= lr * buf[i];
      } else {
        p[i] -= lr * d / denom;
      }
    }
  }
};

struct AdamRef {
  double lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool amsgrad = false;
  Penalties pen{};
  std::vector<double> m{}, v{}, vmax{};
  int t = 0;
  void step(std::vector<double>& p, const std::vector<double>& g, double scale = 1) {
    ++t;
    m.resize(p.size(), 0.0);
    v.resize(p.size(), 0.0);
    vmax.resize(p.size(), 0.0);
    const double bc1 = 1 - std::pow(beta1, t), bc2 = 1 - std::pow(beta2, t);
    for (size_t i = 0; i < p.size(); ++i) {
      const double d = penalized(g[i], p[i], scale, pen);
      p[i] *= 1 - lr * pen.decoupled;
      m[i] = beta1 * m[i] + (1 - beta1) * d;
      v[i] = beta2 * v[i] + (1 - beta2) * d * d;
      vmax[i] = std::max(vmax[i], v[i]);
      const double second = amsgrad ? vmax[i] : v[i];
      p[i] -= lr * (m[i] / bc1) / (std::sqrt(second / bc2) + eps);
    }
  }
};

}  // namespace tg::reference
