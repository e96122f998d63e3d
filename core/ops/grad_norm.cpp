// Front-ends of gradient clipping: checks and dispatch (grad_norm.h).
#include "grad_norm.h"

#include "../../kernels/elementwise.h"
#include "../../kernels/grad_norm.h"
#include "../dispatch.h"
#include "../factory.h"
#include "op_support.h"

namespace tg {

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
