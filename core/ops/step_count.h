// Front-end of the device step count (kernels/step_count.h): what every optimizer with a
// step count advances after its update, on the device (Note [device step count],
// kernels/update_common.h).
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"
#include "grad_norm.h"

TG_API_BEGIN

namespace tg {

// step_count += 1 on its device, unless `control` says the step was skipped.
void advance_step_count_(const Tensor& step_count, const ClipState* control);

}  // namespace tg

TG_API_END
