// The loss scaler's update after a step (PyTorch's GradScaler.update, its
// _amp_update_scale_), on the device so nothing waits for the host:
//   a skipped step (non-finite gradients)  scale ← scale · backoff, growth_tracker ← 0,
//                                          skipped_steps ← skipped_steps + 1
//   a step taken                           growth_tracker ← growth_tracker + 1; when it
//                                          reaches growth_interval: scale ← scale · growth
//                                          (kept when that is not finite), growth_tracker ← 0
// The products are taken in double and stored as float, as PyTorch's are. The scale the
// step's gradients carried and its skip flag are kept for the telemetry (step_scale,
// step_skipped). One element; the gradients themselves are unscaled inside the fused update
// (Note [loss scaling], optim/loss_scaler.h).
//
// Front-end: core/ops/loss_scale.cpp. Tests: tests/unit/loss_scaler_test.cpp,
//   tests/golden/loss_scaler_golden_test.cpp, tests/cuda/training_kernels_parity_test.cpp
#pragma once

#include <cfloat>
#include <cstdint>

#include "common.h"

namespace tg::kernels {

struct LossScaleUpdateArgs {
  float* scale;             // () the loss scale
  int64_t* growth_tracker;  // () clean steps since the last change
  int64_t* skipped_steps;   // () steps skipped so far
  float* step_scale;        // () written: the scale this step's gradients carried
  uint8_t* step_skipped;    // () written: this step's skip flag
  const uint8_t* skip;      // () the step's non-finite flag (kernels/grad_norm.h)
  double growth_factor, backoff_factor;
  int64_t growth_interval;
};

TG_HOST_DEVICE void update_loss_scale(const LossScaleUpdateArgs& a) {
  const float scale = *a.scale;
  *a.step_scale = scale;
  *a.step_skipped = *a.skip != 0 ? 1 : 0;
  if (*a.skip != 0) {
    *a.scale = static_cast<float>(static_cast<double>(scale) * a.backoff_factor);
    *a.growth_tracker = 0;
    *a.skipped_steps += 1;
    return;
  }
  const int64_t clean = *a.growth_tracker + 1;
  if (clean < a.growth_interval) {
    *a.growth_tracker = clean;
    return;
  }
  // Kept unless the grown scale is a finite float (and the conversion stays in range).
  const double grown = static_cast<double>(scale) * a.growth_factor;
  if (grown <= static_cast<double>(FLT_MAX)) *a.scale = static_cast<float>(grown);
  *a.growth_tracker = 0;
}

namespace cpu {
void update_loss_scale(const LossScaleUpdateArgs& args);
}
namespace cuda {
void update_loss_scale(const LossScaleUpdateArgs& args, void* stream);
}

}  // namespace tg::kernels
