// Front-ends of the fused updates and of the gradient norm: checks and dispatch.
#include "tamegrad/core/ops/update.h"

#include "tamegrad/core/ops/op_support.h"
#include "tamegrad/kernels/adagrad.h"
#include "tamegrad/kernels/adam.h"
#include "tamegrad/kernels/elementwise.h"
#include "tamegrad/kernels/grad_norm.h"
#include "tamegrad/kernels/rmsprop.h"
#include "tamegrad/kernels/sgd.h"
#include "tamegrad/kernels/step_count.h"

namespace tg {

namespace {

// Checks one flat buffer against the parameters; undefined buffers pass when optional.
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

// step_count is required by the updates that take one (an undefined tensor: RMSprop).
kernels::StepControl step_control(const char* op, const ClipState* control, const Tensor& params,
                                  const Tensor& step_count, bool counted = true) {
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
  return c;
}

}  // namespace

void global_grad_norm_(const std::vector<Tensor>& grads, double max_norm, ClipState& state) {
  TG_CHECK(!grads.empty(), "global_grad_norm: no gradients");
  const Device device = grads.front().device();
  int64_t partial_count = 0;
  for (const Tensor& g : grads) {
    ops::check_float("global_grad_norm", g);
    TG_CHECK(g.device() == device && g.is_contiguous(),
             "global_grad_norm: gradients must be contiguous and on one "
             "device; got ",
             g.device(), " and ", device);
    partial_count += kernels::norm_partials(g.numel());
  }
  const TensorOptions on_device = TensorOptions().device(device);
  auto fits = [&](const Tensor& t, DType dtype, int64_t numel) {
    return t.defined() && t.device() == device && t.dtype() == dtype && t.numel() >= numel;
  };
  // Note [clip scalars] (kernels/grad_norm.h): float64 whatever the gradients' dtype.
  if (!fits(state.norm, DType::Float64, 1)) state.norm = empty({}, on_device.dtype(DType::Float64));
  if (!fits(state.scale, DType::Float64, 1))
    state.scale = empty({}, on_device.dtype(DType::Float64));
  if (!fits(state.skip, DType::UInt8, 1)) state.skip = empty({}, on_device.dtype(DType::UInt8));
  if (!fits(state.partials, DType::Float64, std::max<int64_t>(partial_count, 1))) {
    state.partials = empty({std::max<int64_t>(partial_count, 1)}, on_device.dtype(DType::Float64));
  }
  if (!fits(state.arrivals, DType::Int64, 1))
    state.arrivals = zeros({}, on_device.dtype(DType::Int64));
  const kernels::ClipFinalizeArgs finish{state.partials.data_ptr<double>(),
                                         partial_count,
                                         max_norm,
                                         state.norm.data_ptr<double>(),
                                         state.scale.data_ptr<double>(),
                                         state.skip.data_ptr<uint8_t>()};
  double* cursor = state.partials.data_ptr<double>();
  for (size_t i = 0; i < grads.size(); ++i) {
    const Tensor& g = grads[i];
    kernels::NormPartialsArgs args{g.dtype(), g.numel(), g.raw_data_ptr(), cursor};
    if (i + 1 == grads.size()) {
      args.finishes = true;
      args.finish = finish;
      args.arrivals = reinterpret_cast<unsigned long long*>(state.arrivals.data_ptr<int64_t>());
    }
    TG_ON_DEVICE(device, kernels::cpu::norm_partials(args), stream,
                 kernels::cuda::norm_partials(args, stream));
    cursor += kernels::norm_partials(g.numel());
  }
  for (const Tensor& t : {state.norm, state.scale, state.skip}) t.bump_version();
}

ClipState global_grad_norm(const std::vector<Tensor>& grads, double max_norm) {
  ClipState state;
  global_grad_norm_(grads, max_norm, state);
  return state;
}

void adam_update_(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                  const Tensor& v_max, const optim::AdamParams& hyper, const Tensor& step_count,
                  const ClipState* control) {
  check_params("adam", params, grads);
  check_buffer("adam", "m", m, params, true);
  check_buffer("adam", "v", v, params, true);
  check_buffer("adam", "v_max", v_max, params, hyper.amsgrad);
  // Only the hyperparameters are read: the kernel derives step t's constants from the
  // step count (step_at), as it does SGD's and AdaGrad's below.
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

void sgd_update_(const Tensor& params, const Tensor& grads, const Tensor& momentum_buffer,
                 const optim::SgdParams& hyper, const Tensor& step_count,
                 const ClipState* control) {
  check_params("sgd", params, grads);
  check_buffer("sgd", "momentum_buffer", momentum_buffer, params, hyper.momentum != 0);
  const kernels::SgdArgs args{params.dtype(),
                              params.numel(),
                              params.raw_data_ptr(),
                              grads.raw_data_ptr(),
                              hyper.momentum != 0 ? momentum_buffer.raw_data_ptr() : nullptr,
                              kernels::sgd_step(hyper, true),
                              step_control("sgd", control, params, step_count)};
  TG_ON_DEVICE(params.device(), kernels::cpu::sgd(args), stream, kernels::cuda::sgd(args, stream));
}

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

void rmsprop_update_(const Tensor& params, const Tensor& grads, const Tensor& square_avg,
                     const Tensor& grad_avg, const Tensor& momentum_buffer,
                     const kernels::RmspropParams& hyper, const ClipState* control) {
  check_params("rmsprop", params, grads);
  check_buffer("rmsprop", "square_avg", square_avg, params, true);
  check_buffer("rmsprop", "grad_avg", grad_avg, params, hyper.centered);
  check_buffer("rmsprop", "momentum_buffer", momentum_buffer, params, hyper.momentum > 0);
  const kernels::RmspropArgs args{params.dtype(),
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

void advance_step_count_(const Tensor& step_count, const ClipState* control) {
  check_step_count("advance_step_count", step_count, step_count.device());
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

void clip_grad_value_(const std::vector<Tensor>& grads, double value) {
  TG_CHECK(value >= 0, "clip_grad_value_: value must be >= 0, got ", value);
  for (const Tensor& g : grads) {
    ops::check_float("clip_grad_value_", g);
    TG_CHECK(g.is_contiguous(), "clip_grad_value_: gradients must be contiguous, got strides ",
             g.strides());
    // The elementwise clamp kernel, in place (each element is read, then written, by one thread).
    const kernels::UnaryArgs args{
        kernels::UnaryOp::Clamp, g.dtype(), g.numel(), g.raw_data_ptr(), nullptr,
        g.raw_data_ptr(),        -value,    value};
    TG_ON_DEVICE(g.device(), kernels::cpu::unary(args), stream, kernels::cuda::unary(args, stream));
    g.bump_version();
  }
}

}  // namespace tg
