// Front-end of the loss scaler's device state and its update after a step
// (kernels/loss_scale.h; the scaler itself is optim/loss_scaler.h, Note [loss scaling]).
#pragma once

#include "../../foundation/config.h"
#include "../../foundation/hyperparams.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

// Device scalars of a loss scaler, all on the parameters' device.
struct LossScaleState {
  optim::LossScalerOptions options;
  Tensor scale;           // () float32: what the loss is multiplied by
  Tensor growth_tracker;  // () int64: clean steps since the scale last changed
  Tensor skipped_steps;   // () int64: steps skipped for non-finite gradients
  Tensor step_scale;      // () float32: the scale the last step's gradients carried
  Tensor step_skipped;    // () uint8: whether the last step was skipped
  // Host: the gradients of the step under way were divided by the scale in place
  // (LossScaler::unscale_), so the update must not divide again; and the same for the last
  // step taken (what the telemetry reads).
  bool unscaled = false, last_unscaled = false;
};

// Checks the options (naming the field) and makes the state on `device`.
LossScaleState make_loss_scale_state(const optim::LossScalerOptions& options, const Device& device);
void check_loss_scaler_options(const optim::LossScalerOptions& options);

// After a step whose non-finite flag is `skip` (() uint8 on the device): the update of
// kernels/loss_scale.h, one launch, nothing read back.
void update_loss_scale_(LossScaleState& state, const Tensor& skip);

}  // namespace tg

TG_API_END
