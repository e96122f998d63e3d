// The optimizer tests' problem: a quadratic bowl over two float64 parameters whose
// gradient is known in closed form, and a check of an optimizer's trajectory on it against
// a naive reference (tests/reference/optim_reference.h).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../optim/optim.h"

namespace tg {

using Reference = std::function<void(std::vector<double>&, const std::vector<double>&)>;

// A quadratic bowl 0.5·Σ c·(p - target)² over two parameters of different shapes, so the
// gradient c·(p - target) depends on where the optimizer has taken p.
struct Problem {
  Tensor a = from_vector(std::vector<double>{0.5, -1.5, 2.0, 0.1, -0.3, 0.9}, {2, 3});
  Tensor b = from_vector(std::vector<double>{1.0, -2.0, 0.0, 3.0});
  std::vector<double> c{1.0, 2.0, 0.5, 3.0, 1.5, 0.7, 2.5, 0.2, 1.2, 0.9};
  std::vector<double> target{0.3, 0.1, -0.2, 0.5, 0.0, -1.0, 0.4, 0.8, -0.6, 0.2};

  Problem() {
    a.requires_grad_();
    b.requires_grad_();
  }
  std::vector<double> values() const {
    std::vector<double> v;
    for (const Tensor& t : {a, b}) {
      const Tensor c = t.detach().contiguous();
      v.insert(v.end(), c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
    }
    return v;
  }
  Tensor loss() const {
    const Tensor p = cat({a.reshape({-1}), b});
    const Tensor d = sub(p, from_vector(target));
    return mul(sum(mul(from_vector(c), mul(d, d))), 0.5);
  }
  std::vector<double> grad_at(const std::vector<double>& p) const {
    std::vector<double> g(p.size());
    for (size_t i = 0; i < p.size(); ++i) g[i] = c[i] * (p[i] - target[i]);
    return g;
  }
};

inline void expect_same_trajectory(optim::Optimizer& opt, Problem& problem,
                                   const Reference& reference, int steps = 40) {
  std::vector<double> expected = problem.values();
  for (int t = 0; t < steps; ++t) {
    opt.zero_grad();
    problem.loss().backward();
    opt.step();
    reference(expected, problem.grad_at(expected));
    const std::vector<double> got = problem.values();
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got[i], expected[i], 1e-12 * (1 + std::fabs(expected[i])))
          << "step " << t + 1 << " element " << i;
    }
  }
}

inline optim::Regularization regularization(double l2, double l1, double decoupled) {
  optim::Regularization r;
  r.l2_penalty = l2;
  r.l1_penalty = l1;
  r.decoupled_weight_decay = decoupled;
  return r;
}

}  // namespace tg
