// Helpers shared by the fused updates' front-ends (update_support.h).
#include "update_support.h"

#include "op_support.h"

namespace tg::ops {

void check_buffer(const char* op, const char* name, const Tensor& t, const Tensor& params,
                  bool required) {
  if (!t.defined() && !required) return;
  TG_CHECK(t.defined() && t.dim() == 1 && t.is_contiguous() && t.numel() == params.numel() &&
               t.dtype() == params.dtype() && t.device() == params.device(),
           op, ": ", name, " must be a contiguous 1-D ", params.dtype(), " buffer of ",
           params.numel(), " elements on ", params.device(), ", got ",
           t.defined() ? t.shape() : Shape{});
}

void check_params(const char* op, const Tensor& params, const Tensor& grads) {
  ops::check_float(op, params);
  check_buffer(op, "params", params, params, true);
  check_buffer(op, "grads", grads, params, true);
}

void check_step_count(const char* op, const Tensor& step_count, const Device& device) {
  TG_CHECK(step_count.defined() && step_count.dim() == 0 && step_count.dtype() == DType::Int64 &&
               step_count.device() == device,
           op, ": the step count must be a 0-d int64 tensor on ", device, ", got ",
           step_count.defined() ? step_count.str() : std::string("an undefined tensor"));
}

kernels::StepControl step_control(const char* op, const ClipState* control, const Tensor& params,
                                  const Tensor& step_count, bool counted) {
  kernels::StepControl c;
  if (counted) {
    check_step_count(op, step_count, params.device());
    c.step_count = step_count.data_ptr<int64_t>();
  }
  if (control == nullptr) return c;
  TG_CHECK(control->scale.device() == params.device(), op, ": clip state on ",
           control->scale.device(), ", parameters on ", params.device());
  c.grad_scale = control->scale.data_ptr<double>();
  c.skip = control->skip.data_ptr<uint8_t>();
  if (control->loss_scale.defined()) c.loss_scale = control->loss_scale.data_ptr<float>();
  return c;
}

}  // namespace tg::ops
