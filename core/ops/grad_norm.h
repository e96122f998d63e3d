// Front-ends of gradient clipping (kernels/grad_norm.h and the elementwise clamp): the global
// gradient norm over every flat buffer, with the clip coefficient and the non-finite flag
// kept on the device for the next fused update; and clipping by value. Nothing here waits
// for the device.
#pragma once

#include <vector>

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

// Device scalars written by global_grad_norm and read by the next update
// (Note [step control], kernels/update_common.h).
struct ClipState {
  Tensor norm;      // 0-d float64 (Note [clip scalars]): the global L2 norm
  Tensor scale;     // 0-d float64: min(1, max_norm / (norm + 1e-6)), or 1 without clipping
  Tensor skip;      // 0-d uint8: 1 when the norm is not finite
  Tensor partials;  // float64 scratch of the first stage
  Tensor arrivals;  // 0-d int64, 0 between calls: the GPU's count of finished blocks
};

// One deterministic two-stage reduction over every buffer (same device), one launch per
// buffer on the GPU; max_norm <= 0
// only measures. Writes into `state`, reusing its tensors when they fit (so a training
// loop allocates them once, and a captured CUDA graph sees fixed addresses).
void global_grad_norm_(const std::vector<Tensor>& grads, double max_norm, ClipState& state);
// The same into a new state.
ClipState global_grad_norm(const std::vector<Tensor>& grads, double max_norm);

// Clamps every element of each gradient to [-value, value], in place.
void clip_grad_value_(const std::vector<Tensor>& grads, double value);

}  // namespace tg

TG_API_END
