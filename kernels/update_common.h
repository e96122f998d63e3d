// What every fused optimizer update shares: regularisation folded into the update, and the
// step control that global-norm clipping writes on the device.
//
// Note [regularisation names]
//   l2_penalty              coupled L2: λ·p is added to the gradient (so Adam's moments see it)
//   l1_penalty              coupled L1: λ·sign(p) is added to the gradient
//   decoupled_weight_decay  AdamW-style: p ← p·(1 - lr·λ) before the update, moments untouched
// They are separate fields and never confused; any combination may be set.
//
// Note [step control]
// grad_scale (the clip coefficient) and skip (the non-finite flag) live in device memory
// when they come from clip_grad_norm, so no value travels to the host between the norm
// and the update. With skip set, the update returns before writing anything: parameters
// and state stay bitwise unchanged. A loss scaler's scale, when the gradients carry one, is
// divided out in the same multiply (Note [loss scaling], optim/loss_scaler.h).
//
// Note [device step count]
// The optimizers keep their step count in device memory (step_count: updates taken so
// far). An update given it derives its per-step constants (Adam's bias corrections, SGD's
// first-step momentum, AdaGrad's decayed rate) from t = step_count + 1 on the device, once
// per CUDA block or once per CPU call (step_at below), and advance_step_count then adds
// 1 unless the step was skipped. So a replayed CUDA graph sees t advance, and a step
// skipped for a non-finite norm is not counted, as in PyTorch, which never took it.
// Without step_count the constants in the arguments are used as given.
#pragma once

#include <cmath>
#include <cstdint>

#include "../foundation/hyperparams.h"
#include "common.h"

namespace tg::kernels {

using optim::Regularization;

struct StepControl {
  const double* grad_scale = nullptr;   // multiplies every gradient; null = 1 (float64:
                                        // Note [clip scalars], kernels/grad_norm.h)
  const float* loss_scale = nullptr;    // divides every gradient: the loss scale they carry
                                        // (Note [loss scaling]); null = 1
  const uint8_t* skip = nullptr;        // non-zero: leave everything untouched; null = never
  const int64_t* step_count = nullptr;  // updates taken before this one; null = constants as given
};

// The per-step constants of this launch: `given`, or those of step t = *step_count + 1
// (each update header defines step_at(given, t) for its constants).
template <typename Step>
TG_HOST_DEVICE Step launch_step(const Step& given, const StepControl& control) {
  return control.step_count != nullptr ? step_at(given, *control.step_count + 1) : given;
}

// False when the step is to be skipped; else sets *scale to the gradient scale. Read once
// per CPU call or once per GPU thread.
template <typename T>
TG_HOST_DEVICE bool step_enabled(const StepControl& control, T* scale) {
  if (control.skip != nullptr && *control.skip != 0) return false;
  if (control.loss_scale != nullptr) {
    const double clip = control.grad_scale != nullptr ? *control.grad_scale : 1.0;
    *scale = static_cast<T>(clip / static_cast<double>(*control.loss_scale));
    return true;
  }
  *scale = control.grad_scale != nullptr ? static_cast<T>(*control.grad_scale) : T(1);
  return true;
}

// The gradient the update uses: clip-scaled, plus the coupled penalties. Written without
// branches (a penalty that is off adds 0·p, exactly 0 for finite p) so CPU loops vectorise.
template <typename T>
TG_HOST_DEVICE T regularized_grad(T g, T p, T scale, const Regularization& r) {
  const T sign = T((p > T(0)) - (p < T(0)));
  return g * scale + T(r.l2_penalty) * p + T(r.l1_penalty) * sign;
}

// p after decoupled weight decay with learning rate lr (a factor of exactly 1 when off).
template <typename T>
TG_HOST_DEVICE T decayed(T p, T lr, const Regularization& r) {
  return p * (T(1) - lr * T(r.decoupled_weight_decay));
}

}  // namespace tg::kernels
