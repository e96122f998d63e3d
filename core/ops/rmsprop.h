// Front-end of the fused RMSprop (plain, centered, momentum) update (kernels/rmsprop.h, its CPU and
// CUDA launchers): checks and dispatch. Its constants need no step count.
#pragma once

#include "../../foundation/config.h"
#include "../../foundation/hyperparams.h"
#include "../tensor.h"
#include "grad_norm.h"

TG_API_BEGIN

namespace tg {

// One kernel launch over the whole flat buffer; RMSprop's update needs no step count.
// `control` (optional, from global_grad_norm_) scales the gradients and may skip the step.
void rmsprop_update_(const Tensor& params, const Tensor& grads, const Tensor& square_avg,
                     const Tensor& grad_avg, const Tensor& momentum_buffer,
                     const optim::RMSpropParams& hyper, const ClipState* control = nullptr);

}  // namespace tg

TG_API_END
