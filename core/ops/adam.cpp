// Front-end of the fused Adam/AdamW update: checks and dispatch (adam.h).
#include "adam.h"

#include "../../kernels/adam.h"
#include "../dispatch.h"
#include "update_support.h"

namespace tg {

using ops::check_buffer;
using ops::check_params;
using ops::step_control;

void adam_update_(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                  const Tensor& v_max, const optim::AdamParams& hyper, const Tensor& step_count,
                  const ClipState* control) {
  check_params("adam", params, grads);
  check_buffer("adam", "m", m, params, true);
  check_buffer("adam", "v", v, params, true);
  check_buffer("adam", "v_max", v_max, params, hyper.amsgrad);
  // Only the hyperparameters are read: the kernel derives step t's constants from the
  // step count (step_at), as it does SGD's and AdaGrad's (sgd.cpp, adagrad.cpp).
  const kernels::AdamStep step{hyper, 0.0, 1.0};
  const kernels::AdamArgs args{params.dtype(),
                               params.numel(),
                               params.raw_data_ptr(),
                               grads.raw_data_ptr(),
                               m.raw_data_ptr(),
                               v.raw_data_ptr(),
                               hyper.amsgrad ? v_max.raw_data_ptr() : nullptr,
                               step,
                               step_control("adam", control, params, step_count)};
  TG_ON_DEVICE(params.device(), kernels::cpu::adam(args), stream,
               kernels::cuda::adam(args, stream));
}

}  // namespace tg
