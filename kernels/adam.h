// Fused Adam / AdamW update (Kingma & Ba, "Adam", ICLR 2015; Loshchilov & Hutter,
// "Decoupled weight decay regularization", ICLR 2019), PyTorch's formulation:
//   g ← regularized(g)          m ← β1·m + (1-β1)·g        v ← β2·v + (1-β2)·g²
//   v̂ ← max(v̂, v) (AMSGrad)     p ← decayed(p) - (lr / bc1) · m / (sqrt(v or v̂) / sqrt(bc2) + eps)
// with bc1 = 1 - β1^t, bc2 = 1 - β2^t from the step count t (step_at, on the device).
// Moves 28 bytes per float32 parameter (p, m, v read and written; g read), 36 with AMSGrad.
//
// Front-end: core/ops/adam.cpp (optimizer: optim/adam.cpp). Tests:
//   tests/unit/optimizer_test.cpp (float64 reference),
//   tests/golden/optim_golden_test.cpp (PyTorch),
//   tests/cuda/training_kernels_parity_test.cpp (CUDA vs CPU)
#pragma once

#include "update_common.h"

namespace tg::kernels {

using optim::AdamParams;

// Per-step constants, from the host.
struct AdamStep {
  AdamParams params;
  double step_size;              // lr / bc1
  double bias_correction2_sqrt;  // sqrt(bc2)
};

// The constants of step t (1-based): lr / (1 - β1^t) and sqrt(1 - β2^t).
TG_HOST_DEVICE AdamStep step_at(const AdamStep& given, int64_t t) {
  using std::pow;
  using std::sqrt;
  const AdamParams& h = given.params;
  const double tf = static_cast<double>(t);
  return {h, h.lr / (1.0 - pow(h.beta1, tf)), sqrt(1.0 - pow(h.beta2, tf))};
}

template <typename T>
TG_HOST_DEVICE void adam_element(T& p, T g, T& m, T& v, T* v_max, const AdamStep& s, T scale) {
  using std::sqrt;
  const AdamParams& h = s.params;
  g = regularized_grad(g, p, scale, h.regularization);
  p = decayed(p, T(h.lr), h.regularization);
  m = T(h.beta1) * m + (T(1) - T(h.beta1)) * g;
  v = T(h.beta2) * v + (T(1) - T(h.beta2)) * g * g;
  T second = v;
  if (v_max != nullptr) {
    *v_max = *v_max > v ? *v_max : v;
    second = *v_max;
  }
  p = p - T(s.step_size) * m / (sqrt(second) / T(s.bias_correction2_sqrt) + T(h.eps));
}

struct AdamArgs {
  DType dtype;
  int64_t n;
  void* params;       // (n,)
  const void* grads;  // (n,)
  void* m;            // (n,)
  void* v;            // (n,)
  void* v_max;        // (n,) with AMSGrad, else null
  AdamStep step;
  StepControl control;
};

namespace cpu {
void adam(const AdamArgs& args);
}
namespace cuda {
void adam(const AdamArgs& args, void* stream);
}

}  // namespace tg::kernels
