// Helpers shared by the fused updates' front-ends (core/ops/adam.cpp, sgd.cpp,
// adagrad.cpp, rmsprop.cpp): buffer checks and the step control the kernels read.
// Internal: not installed.
#pragma once

#include "../../kernels/update_common.h"
#include "../tensor.h"
#include "grad_norm.h"

namespace tg::ops {

// Checks one flat buffer against the parameters; undefined buffers pass when optional.
void check_buffer(const char* op, const char* name, const Tensor& t, const Tensor& params,
                  bool required);
void check_params(const char* op, const Tensor& params, const Tensor& grads);
void check_step_count(const char* op, const Tensor& step_count, const Device& device);
// step_count is required by the updates that take one (an undefined tensor: RMSprop).
kernels::StepControl step_control(const char* op, const ClipState* control, const Tensor& params,
                                  const Tensor& step_count, bool counted = true);

}  // namespace tg::ops
