// Fused parameter updates and global-norm clipping over flat buffers (optim/ builds the
// optimizers on these). Every buffer is 1-D, contiguous, on one device, of one floating
// dtype; state buffers may be undefined where the option that needs them is off.
// Nothing here waits for the device.
#pragma once

#include <vector>

#include "tamegrad/config.h"
#include "tamegrad/core/tensor.h"
#include "tamegrad/optim/hyperparams.h"

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

// Each update is one kernel launch over the whole buffer. `step_count` is a 0-d int64
// tensor on the parameters' device holding the updates taken so far: the update uses the
// constants of step t = step_count + 1 (Adam's bias corrections, SGD's first momentum step,
// AdaGrad's decayed rate), computed on the device (Note [device step count],
// kernels/update_common.h), and advance_step_count_ then counts the step. `control`
// (optional) scales the gradients and may skip the step.
void adam_update_(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                  const Tensor& v_max, const optim::AdamParams& hyper, const Tensor& step_count,
                  const ClipState* control = nullptr);
void sgd_update_(const Tensor& params, const Tensor& grads, const Tensor& momentum_buffer,
                 const optim::SgdParams& hyper, const Tensor& step_count,
                 const ClipState* control = nullptr);
void adagrad_update_(const Tensor& params, const Tensor& grads, const Tensor& sum,
                     const optim::AdagradParams& hyper, const Tensor& step_count,
                     const ClipState* control = nullptr);
void rmsprop_update_(const Tensor& params, const Tensor& grads, const Tensor& square_avg,
                     const Tensor& grad_avg, const Tensor& momentum_buffer,
                     const optim::RmspropParams& hyper, const ClipState* control = nullptr);

// step_count += 1 on its device, unless `control` says the step was skipped.
void advance_step_count_(const Tensor& step_count, const ClipState* control);

// Clamps every element of each gradient to [-value, value], in place.
void clip_grad_value_(const std::vector<Tensor>& grads, double value);

}  // namespace tg

TG_API_END
