// Fused SGD update with momentum, dampening and Nesterov (PyTorch's formulation):
//   g ← regularized(g);  p ← decayed(p)
//   with momentum μ:  b ← g on the first step, else μ·b + (1 - dampening)·g;
//                     g ← g + μ·b (Nesterov) or g ← b
//   p ← p - lr·g
//
// Front-end: core/ops/sgd.cpp (optimizer: optim/sgd.cpp). Tests:
//   tests/unit/optimizer_test.cpp (float64 reference),
//   tests/golden/optim_golden_test.cpp (PyTorch),
//   tests/cuda/training_kernels_parity_test.cpp (CUDA vs CPU)
#pragma once

#include "update_common.h"

namespace tg::kernels {

using optim::SGDParams;

// Per-step coefficients, from the host, so the element math has no branches:
//   b ← buffer_decay·b + grad_weight·g      ((0, 1) on the first step: b starts as g)
//   d = direction_grad·g + direction_buffer·b  ((1, μ) for Nesterov, (0, 1) otherwise)
struct SGDStep {
  SGDParams params;
  double buffer_decay, grad_weight;
  double direction_grad, direction_buffer;
};

TG_HOST_DEVICE SGDStep sgd_step(const SGDParams& h, bool first_step) {
  return {h, first_step ? 0.0 : h.momentum, first_step ? 1.0 : 1.0 - h.dampening,
          h.nesterov ? 1.0 : 0.0, h.nesterov ? h.momentum : 1.0};
}

// The coefficients of step t (1-based): the buffer starts as g on the first.
TG_HOST_DEVICE SGDStep step_at(const SGDStep& given, int64_t t) {
  return sgd_step(given.params, t == 1);
}

template <typename T>
TG_HOST_DEVICE void sgd_element(T& p, T g, T* buffer, const SGDStep& s, T scale) {
  const SGDParams& h = s.params;
  g = regularized_grad(g, p, scale, h.regularization);
  p = decayed(p, T(h.lr), h.regularization);
  if (buffer != nullptr) {
    *buffer = T(s.buffer_decay) * *buffer + T(s.grad_weight) * g;
    g = T(s.direction_grad) * g + T(s.direction_buffer) * *buffer;
  }
  p = p - T(h.lr) * g;
}

struct SGDArgs {
  DType dtype;
  int64_t n;
  void* params;
  const void* grads;
  void* momentum_buffer;  // (n,) when momentum != 0, else null
  SGDStep step;
  StepControl control;
};

namespace cpu {
void sgd(const SGDArgs& args);
}
namespace cuda {
void sgd(const SGDArgs& args, void* stream);
}

}  // namespace tg::kernels
