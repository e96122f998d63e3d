// Fused AdaGrad update (Duchi et al., JMLR 2011), PyTorch's formulation:
//   g ← regularized(g);  p ← decayed(p);  s ← s + g²
//   p ← p - clr · g / (sqrt(s) + eps),  clr = lr / (1 + (t - 1)·lr_decay) from the host
//
// Front-end: core/ops/adagrad.cpp (optimizer: optim/adagrad.cpp). Tests:
//   tests/unit/optimizer_test.cpp (float64 reference),
//   tests/golden/optim_golden_test.cpp (PyTorch),
//   tests/cuda/training_kernels_parity_test.cpp (CUDA vs CPU)
#pragma once

#include "update_common.h"

namespace tg::kernels {

using optim::AdagradParams;

struct AdagradStep {
  AdagradParams params;
  double clr;  // the decayed learning rate of this step
};

// The decayed rate of step t (1-based).
TG_HOST_DEVICE AdagradStep step_at(const AdagradStep& given, int64_t t) {
  const AdagradParams& h = given.params;
  return {h, h.lr / (1.0 + static_cast<double>(t - 1) * h.lr_decay)};
}

template <typename T>
TG_HOST_DEVICE void adagrad_element(T& p, T g, T& sum, const AdagradStep& s, T scale) {
  using std::sqrt;
  const AdagradParams& h = s.params;
  g = regularized_grad(g, p, scale, h.regularization);
  p = decayed(p, T(s.clr), h.regularization);
  sum = sum + g * g;
  p = p - T(s.clr) * g / (sqrt(sum) + T(h.eps));
}

struct AdagradArgs {
  DType dtype;
  int64_t n;
  void* params;
  const void* grads;
  void* sum;  // (n,)
  AdagradStep step;
  StepControl control;
};

namespace cpu {
void adagrad(const AdagradArgs& args);
}
namespace cuda {
void adagrad(const AdagradArgs& args, void* stream);
}

}  // namespace tg::kernels
