// Front-end of the fused SGD (momentum, Nesterov) update: checks and dispatch (sgd.h).
#include "sgd.h"

#include "../../kernels/sgd.h"
#include "../dispatch.h"
#include "update_support.h"

namespace tg {

using ops::check_buffer;
using ops::check_params;
using ops::step_control;

void sgd_update_(const Tensor& params, const Tensor& grads, const Tensor& momentum_buffer,
                 const optim::SGDParams& hyper, const Tensor& step_count,
                 const ClipState* control) {
  check_params("sgd", params, grads);
  check_buffer("sgd", "momentum_buffer", momentum_buffer, params, hyper.momentum != 0);
  const kernels::SGDArgs args{params.dtype(),
                              params.numel(),
                              params.raw_data_ptr(),
                              grads.raw_data_ptr(),
                              hyper.momentum != 0 ? momentum_buffer.raw_data_ptr() : nullptr,
                              kernels::sgd_step(hyper, true),
                              step_control("sgd", control, params, step_count)};
  TG_ON_DEVICE(params.device(), kernels::cpu::sgd(args), stream, kernels::cuda::sgd(args, stream));
}

}  // namespace tg
