// Front-end of the fused AdaGrad update (kernels/adagrad.h, its CPU and CUDA launchers):
// checks and dispatch. The decayed rate comes from the device step count.
#pragma once

#include "../../foundation/config.h"
#include "../../foundation/hyperparams.h"
#include "../tensor.h"
#include "grad_norm.h"

TG_API_BEGIN

namespace tg {

// One kernel launch over the whole flat buffer. `step_count` is a 0-d int64 tensor on the
// parameters' device holding the updates taken so far: the update uses the constants of step
// t = step_count + 1, computed on the device (Note [device step count],
// kernels/update_common.h); advance_step_count_ (step_count.h) then counts the step.
// `control` (optional, from global_grad_norm_) scales the gradients and may skip the step.
void adagrad_update_(const Tensor& params, const Tensor& grads, const Tensor& sum,
                     const optim::AdagradParams& hyper, const Tensor& step_count,
                     const ClipState* control = nullptr);

}  // namespace tg

TG_API_END
