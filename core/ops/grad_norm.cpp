// Front-ends of gradient clipping: checks and dispatch (grad_norm.h).
#include "grad_norm.h"

#include <cmath>

#include "../../kernels/agc.h"
#include "../../kernels/elementwise.h"
#include "../../kernels/grad_norm.h"
#include "../../kernels/history_clip.h"
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
  TG_CHECK(!state.loss_scale.defined() ||
               (state.loss_scale.device() == device && state.loss_scale.dtype() == DType::Float32 &&
                state.loss_scale.dim() == 0),
           "global_grad_norm: the loss scale must be a 0-d float32 tensor on ", device);
  const kernels::ClipFinalizeArgs finish{
      state.partials.data_ptr<double>(),
      partial_count,
      max_norm,
      state.norm.data_ptr<double>(),
      state.scale.data_ptr<double>(),
      state.skip.data_ptr<uint8_t>(),
      state.loss_scale.defined() ? state.loss_scale.data_ptr<float>() : nullptr};
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

void check_history_clip(const optim::HistoryClipOptions& o) {
  TG_CHECK(o.rule == optim::HistoryRule::Percentile || o.rule == optim::HistoryRule::ZScore,
           "history clip: unknown rule ", static_cast<int>(o.rule));
  TG_CHECK(o.percentile >= 0 && o.percentile <= 100,
           "history clip: percentile must be in [0, 100], got ", o.percentile);
  TG_CHECK(o.window >= 1 && o.window <= kernels::kMaxHistoryWindow,
           "history clip: window must be 1 to ", kernels::kMaxHistoryWindow, " norms, got ",
           o.window);
  TG_CHECK(o.z > 0 && std::isfinite(o.z), "history clip: z must be finite and > 0, got ", o.z);
  TG_CHECK(o.beta >= 0 && o.beta < 1, "history clip: beta must be in [0, 1), got ", o.beta);
  TG_CHECK(o.warmup >= 1, "history clip: warmup must be at least 1 step, got ", o.warmup);
}

ClipHistory make_clip_history(const optim::HistoryClipOptions& options, const Device& device) {
  check_history_clip(options);
  const TensorOptions f64 = TensorOptions(DType::Float64).device(device);
  return {zeros({options.window}, f64), zeros({}, f64.dtype(DType::Int64)), zeros({}, f64),
          zeros({}, f64), full({}, HUGE_VAL, f64)};
}

void history_clip_(ClipState& state, ClipHistory& history,
                   const optim::HistoryClipOptions& options) {
  check_history_clip(options);
  TG_CHECK(state.norm.defined() && history.norms.defined(),
           "history clip: measure the norm first, into a made history");
  const Device device = state.norm.device();
  TG_CHECK(history.norms.device() == device && history.norms.numel() == options.window,
           "history clip: the history holds ", history.norms.numel(), " norms on ",
           history.norms.device(), "; the options want ", options.window, " on ", device);
  const kernels::HistoryClipArgs args{options,
                                      state.norm.data_ptr<double>(),
                                      state.skip.data_ptr<uint8_t>(),
                                      state.scale.data_ptr<double>(),
                                      history.threshold.data_ptr<double>(),
                                      history.norms.data_ptr<double>(),
                                      history.seen.data_ptr<int64_t>(),
                                      history.mean.data_ptr<double>(),
                                      history.var.data_ptr<double>()};
  TG_ON_DEVICE(device, kernels::cpu::history_clip(args), stream,
               kernels::cuda::history_clip(args, stream));
  for (const Tensor& t :
       {state.scale, history.norms, history.seen, history.mean, history.var, history.threshold})
    t.bump_version();
}

void unit_clip_(const Tensor& params, const Tensor& grads, const Tensor& unit_starts,
                const optim::UnitClip& clip) {
  TG_CHECK(clip.agc_lambda > 0 && std::isfinite(clip.agc_lambda) && clip.agc_eps > 0 &&
               std::isfinite(clip.agc_eps),
           "unit_clip: agc_lambda and agc_eps must be finite and > 0, got ", clip.agc_lambda,
           " and ", clip.agc_eps);
  ops::check_float("unit_clip", params);
  TG_CHECK(params.is_contiguous() && grads.is_contiguous() && params.dim() == 1 &&
               grads.shape() == params.shape() && grads.dtype() == params.dtype() &&
               grads.device() == params.device(),
           "unit_clip: params and grads must be one flat buffer each, of one dtype and device");
  TG_CHECK(unit_starts.dtype() == DType::Int64 && unit_starts.dim() == 1 &&
               unit_starts.numel() >= 1 && unit_starts.device() == params.device() &&
               unit_starts.is_contiguous(),
           "unit_clip: unit_starts must be a contiguous int64 vector on ", params.device());
  const kernels::UnitClipArgs args{
      params.dtype(),        unit_starts.numel() - 1, unit_starts.data_ptr<int64_t>(),
      params.raw_data_ptr(), grads.raw_data_ptr(),    clip.agc_lambda,
      clip.agc_eps};
  TG_ON_DEVICE(params.device(), kernels::cpu::unit_clip(args), stream,
               kernels::cuda::unit_clip(args, stream));
  grads.bump_version();
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
