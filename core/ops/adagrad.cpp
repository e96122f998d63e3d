// Front-end of the fused AdaGrad update: checks and dispatch (adagrad.h).
#include "adagrad.h"

#include "../../kernels/adagrad.h"
#include "../dispatch.h"
#include "update_support.h"

namespace tg {

using ops::check_buffer;
using ops::check_params;
using ops::step_control;

void adagrad_update_(const Tensor& params, const Tensor& grads, const Tensor& sum,
                     const optim::AdagradParams& hyper, const Tensor& step_count,
                     const ClipState* control) {
  check_params("adagrad", params, grads);
  check_buffer("adagrad", "sum", sum, params, true);
  const kernels::AdagradArgs args{params.dtype(),
                                  params.numel(),
                                  params.raw_data_ptr(),
                                  grads.raw_data_ptr(),
                                  sum.raw_data_ptr(),
                                  kernels::AdagradStep{hyper, hyper.lr},
                                  step_control("adagrad", control, params, step_count)};
  TG_ON_DEVICE(params.device(), kernels::cpu::adagrad(args), stream,
               kernels::cuda::adagrad(args, stream));
}

}  // namespace tg
