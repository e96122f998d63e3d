// Loss scaling (PyTorch's GradScaler, kept on the device and folded into the fused update).
//
//   optim::Adam optimizer(model.parameters(), {1e-3});
//   optim::LossScaler scaler(optimizer);               // 2^16, x2 every 2000 clean steps, x0.5
//   for (...) {
//     optimizer.zero_grad();
//     {
//       tg::autocast low(DType::Float16);
//       scaler.scale(cross_entropy(model.forward(x), y)).backward();
//     }
//     optimizer.clip_grad_norm(1.0);   // optional: sees the unscaled norm
//     optimizer.step();                // unscales in the update; skips a non-finite step
//   }
//
// Note [loss scaling]
// float16 has 5 exponent bits: gradients below 2^-24 vanish into zero in its products. The
// loss is multiplied by a large scale before backward (scale(loss)), so every gradient carries
// that factor through the half-precision products, and the update divides it out again. Where
// PyTorch makes separate passes (unscale_: divide every gradient and look for infinities;
// step: skip if found; update: change the scale), tamegrad keeps it on the device inside what
// a step already does: the global norm (kernels/grad_norm.h) is divided by the scale, so
// clipping sees the true norm, and a non-finite norm sets the step's skip flag; the update
// multiplies each gradient by clip coefficient / scale in its one pass (kernels/update_common.h,
// StepControl::loss_scale); a skipped step leaves parameters, state and step count untouched;
// then one one-thread launch updates the scale (kernels/loss_scale.h: backoff on a skip,
// growth after growth_interval clean steps). Nothing is read back, and a step costs one norm
// reduction more than without a scaler (PyTorch's unscale_ reads and writes every gradient).
// Clipping by value and unit-wise (AGC) clipping need the true gradients: they divide the
// gradients in place first (unscale_), as PyTorch's users do by hand.
// The scaler's state (scale, growth tracker, skipped steps, options) is part of the
// optimizer's state_dict (loss_scaler.*), so checkpoints carry it; the telemetry reports the
// unscaled gradient norms, the scale and skipped steps, and the monitor does not take a
// skipped step's infinities for divergence (optim/telemetry.h, optim/monitor.h).
// Tests: tests/unit/loss_scaler_test.cpp, tests/golden/loss_scaler_golden_test.cpp (against
// PyTorch's GradScaler, with forced overflows).
#pragma once

#include <memory>

#include "../core/ops/loss_scale.h"
#include "../core/tensor.h"
#include "../foundation/config.h"
#include "../foundation/hyperparams.h"
#include "optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class LossScaler {
 public:
  // Attaches a scaler with `options` to `optimizer` (replacing one attached before); its
  // state lives on the parameters' device, shared with the optimizer.
  explicit LossScaler(Optimizer& optimizer, const LossScalerOptions& options = {});

  // loss · scale, differentiable (backward through it gives scaled gradients); no sync.
  Tensor scale(const Tensor& loss) const;
  // Divides the gradients by the scale in place, for code that reads them before the step
  // (PyTorch's scaler.unscale_(optimizer)); the step then divides nothing.
  void unscale_(Optimizer& optimizer) const;

  // () float32 on the device: the scale the next backward will carry.
  const Tensor& scale_tensor() const { return state_->scale; }
  // () int64 on the device: steps skipped for non-finite gradients so far.
  const Tensor& skipped_steps_tensor() const { return state_->skipped_steps; }
  // The same, read (each waits for the device).
  double scale_value() const;
  int64_t skipped_steps() const;
  const LossScalerOptions& options() const { return state_->options; }

 private:
  std::shared_ptr<LossScaleState> state_;
};

}  // namespace tg::optim

TG_API_END
