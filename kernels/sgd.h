// Fused SGD update with momentum, dampening and Nesterov (PyTorch's formulation):
//   g ← regularized(g);  p ← decayed(p)
//   with momentum μ:  b ← g on the first step, else μ·b + (1 - dampening)·g;
//                     g ← g + μ·b (Nesterov) or g ← b
//   p ← p - lr·g
#pragma once

#include "kernels/update_common.h"

namespace tg::kernels {

struct SgdParams {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  bool nesterov = false;
  Regularization regularization;
};

struct SgdStep {
  SgdParams params;
  bool first_step;  // the momentum buffer starts as the gradient
};

template <typename T>
TG_HOST_DEVICE void sgd_element(T& p, T g, T* buffer, const SgdStep& s, T scale) {
  const SgdParams& h = s.params;
  g = regularized_grad(g, p, scale, h.regularization);
  p = decayed(p, T(h.lr), h.regularization);
  if (buffer != nullptr) {
    *buffer = s.first_step ? g : T(h.momentum) * *buffer + (T(1) - T(h.dampening)) * g;
    g = h.nesterov ? g + T(h.momentum) * *buffer : *buffer;
  }
  p = p - T(h.lr) * g;
}

struct SgdArgs {
  DType dtype;
  int64_t n;
  void* params;
  const void* grads;
  void* momentum_buffer;  // (n,) when momentum != 0, else null
  SgdStep step;
  StepControl control;
};

namespace cpu {
void sgd(const SgdArgs& args);
}
namespace cuda {
void sgd(const SgdArgs& args, void* stream);
}

}  // namespace tg::kernels
