// Fused RMSProp update (Hinton, lecture 6e; centered: Graves 2013), PyTorch's formulation:
//   g ← regularized(g);  p ← decayed(p);  s ← α·s + (1-α)·g²
//   centered: a ← α·a + (1-α)·g,  d = sqrt(s - a²) + eps;  plain: d = sqrt(s) + eps
//   momentum μ > 0: b ← μ·b + g/d, p ← p - lr·b;  else p ← p - lr·g/d
//
// Front-end: core/ops/rmsprop.cpp (optimizer: optim/rmsprop.cpp). Tests:
//   tests/unit/optimizer_test.cpp (float64 reference),
//   tests/golden/optim_golden_test.cpp (PyTorch),
//   tests/cuda/training_kernels_parity_test.cpp (CUDA vs CPU)
#pragma once

#include "update_common.h"

namespace tg::kernels {

using optim::RMSpropParams;

template <typename T>
TG_HOST_DEVICE void rmsprop_element(T& p, T g, T& square_avg, T* grad_avg, T* buffer,
                                    const RMSpropParams& h, T scale) {
  using std::sqrt;
  g = regularized_grad(g, p, scale, h.regularization);
  p = decayed(p, T(h.lr), h.regularization);
  square_avg = T(h.alpha) * square_avg + (T(1) - T(h.alpha)) * g * g;
  T denom;
  if (grad_avg != nullptr) {
    *grad_avg = T(h.alpha) * *grad_avg + (T(1) - T(h.alpha)) * g;
    denom = sqrt(square_avg - *grad_avg * *grad_avg) + T(h.eps);
  } else {
    denom = sqrt(square_avg) + T(h.eps);
  }
  if (buffer != nullptr) {
    *buffer = T(h.momentum) * *buffer + g / denom;
    p = p - T(h.lr) * *buffer;
  } else {
    p = p - T(h.lr) * g / denom;
  }
}

struct RMSpropArgs {
  DType dtype;
  int64_t n;
  void* params;
  const void* grads;
  void* square_avg;       // (n,)
  void* grad_avg;         // (n,) when centered, else null
  void* momentum_buffer;  // (n,) when momentum > 0, else null
  RMSpropParams hyper;
  StepControl control;
};

namespace cpu {
void rmsprop(const RMSpropArgs& args);
}
namespace cuda {
void rmsprop(const RMSpropArgs& args, void* stream);
}

}  // namespace tg::kernels
