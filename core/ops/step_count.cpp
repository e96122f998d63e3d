// Front-end of the device step count: checks and dispatch (step_count.h).
#include "step_count.h"

#include "../../kernels/step_count.h"
#include "../dispatch.h"
#include "update_support.h"

namespace tg {

void advance_step_count_(const Tensor& step_count, const ClipState* control) {
  ops::check_step_count("advance_step_count", step_count, step_count.device());
  TG_CHECK(control == nullptr || control->skip.device() == step_count.device(),
           "advance_step_count: clip state on ", control->skip.device(), ", step count on ",
           step_count.device());
  const kernels::StepCountArgs args{
      step_count.data_ptr<int64_t>(),
      control != nullptr ? control->skip.data_ptr<uint8_t>() : nullptr};
  TG_ON_DEVICE(step_count.device(), kernels::cpu::advance_step_count(args), stream,
               kernels::cuda::advance_step_count(args, stream));
  step_count.bump_version();
}

}  // namespace tg
