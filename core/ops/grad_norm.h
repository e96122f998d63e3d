// Front-ends of gradient clipping (kernels/grad_norm.h, history_clip.h, agc.h and the
// elementwise clamp): the global gradient norm over every flat buffer, with the clip
// coefficient and the non-finite flag kept on the device for the next fused update; its
// history-based threshold; unit-wise adaptive clipping; and clipping by value. Nothing here
// waits for the device.
#pragma once

#include <vector>

#include "../../foundation/config.h"
#include "../../foundation/hyperparams.h"
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
  // 0-d float32, set by the optimizer when a loss scaler's scale is in the gradients (Note
  // [loss scaling]): the norm is then the unscaled one, and the update divides it out.
  // Undefined: none.
  Tensor loss_scale;
};

// One deterministic two-stage reduction over every buffer (same device), one launch per
// buffer on the GPU; max_norm <= 0
// only measures. Writes into `state`, reusing its tensors when they fit (so a training
// loop allocates them once, and a captured CUDA graph sees fixed addresses).
void global_grad_norm_(const std::vector<Tensor>& grads, double max_norm, ClipState& state);
// The same into a new state.
ClipState global_grad_norm(const std::vector<Tensor>& grads, double max_norm);

// The device state of history-based clipping: made by make_clip_history on the gradients'
// device, saved with the optimizer (optimizer.h: clip_history.*, all but the threshold).
struct ClipHistory {
  Tensor norms;      // (window,) float64: the ring of recorded norms
  Tensor seen;       // () int64: norms recorded
  Tensor mean;       // () float64: ZScore's moving mean and variance
  Tensor var;        //
  Tensor threshold;  // () float64: the threshold of the last clip (+inf: none)
};
ClipHistory make_clip_history(const optim::HistoryClipOptions& options, const Device& device);
// Throws naming the option when `options` are out of range.
void check_history_clip(const optim::HistoryClipOptions& options);

// After global_grad_norm_(grads, 0, state) measured this step's norm: records it in
// `history` and writes state.scale from the threshold the history gives (one launch).
void history_clip_(ClipState& state, ClipHistory& history,
                   const optim::HistoryClipOptions& options);

// Unit-wise adaptive clipping (kernels/agc.h) of `grads` against `params` (flat buffers of
// one device and dtype), cut into units at `unit_starts` ((units + 1,) int64, on their
// device), in place.
void unit_clip_(const Tensor& params, const Tensor& grads, const Tensor& unit_starts,
                const optim::UnitClip& clip);

// Clamps every element of each gradient to [-value, value], in place.
void clip_grad_value_(const std::vector<Tensor>& grads, double value);

}  // namespace tg

TG_API_END
