// Front-end of the fused RMSprop (plain, centered, momentum) update: checks and dispatch
// (rmsprop.h).
#include "rmsprop.h"

#include "../../kernels/rmsprop.h"
#include "../dispatch.h"
#include "update_support.h"

namespace tg {

using ops::check_buffer;
using ops::check_params;
using ops::step_control;

void rmsprop_update_(const Tensor& params, const Tensor& grads, const Tensor& square_avg,
                     const Tensor& grad_avg, const Tensor& momentum_buffer,
                     const optim::RMSpropParams& hyper, const ClipState* control) {
  check_params("rmsprop", params, grads);
  check_buffer("rmsprop", "square_avg", square_avg, params, true);
  check_buffer("rmsprop", "grad_avg", grad_avg, params, hyper.centered);
  check_buffer("rmsprop", "momentum_buffer", momentum_buffer, params, hyper.momentum > 0);
  const kernels::RMSpropArgs args{params.dtype(),
                                  params.numel(),
                                  params.raw_data_ptr(),
                                  grads.raw_data_ptr(),
                                  square_avg.raw_data_ptr(),
                                  hyper.centered ? grad_avg.raw_data_ptr() : nullptr,
                                  hyper.momentum > 0 ? momentum_buffer.raw_data_ptr() : nullptr,
                                  hyper,
                                  step_control("rmsprop", control, params, Tensor(), false)};
  TG_ON_DEVICE(params.device(), kernels::cpu::rmsprop(args), stream,
               kernels::cuda::rmsprop(args, stream));
}

}  // namespace tg
