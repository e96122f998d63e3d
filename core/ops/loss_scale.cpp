// Front-end of the loss scaler's update: checks and dispatch (loss_scale.h).
#include "loss_scale.h"

#include <cmath>

#include "../../kernels/loss_scale.h"
#include "../dispatch.h"
#include "../factory.h"

namespace tg {

void check_loss_scaler_options(const optim::LossScalerOptions& o) {
  TG_CHECK(o.init_scale > 0 && o.init_scale <= 3.4028234663852886e38,
           "LossScaler: init_scale must be > 0 and a finite float32, got ", o.init_scale);
  TG_CHECK(o.growth_factor > 1 && std::isfinite(o.growth_factor),
           "LossScaler: growth_factor must be finite and > 1, got ", o.growth_factor);
  TG_CHECK(o.backoff_factor > 0 && o.backoff_factor < 1,
           "LossScaler: backoff_factor must be in (0, 1), got ", o.backoff_factor);
  TG_CHECK(o.growth_interval >= 1, "LossScaler: growth_interval must be at least 1 step, got ",
           o.growth_interval);
}

LossScaleState make_loss_scale_state(const optim::LossScalerOptions& options,
                                     const Device& device) {
  check_loss_scaler_options(options);
  const TensorOptions f32 = TensorOptions(DType::Float32).device(device);
  LossScaleState s;
  s.options = options;
  s.scale = full({}, options.init_scale, f32);
  s.growth_tracker = zeros({}, f32.dtype(DType::Int64));
  s.skipped_steps = zeros({}, f32.dtype(DType::Int64));
  s.step_scale = full({}, options.init_scale, f32);
  s.step_skipped = zeros({}, f32.dtype(DType::UInt8));
  return s;
}

void update_loss_scale_(LossScaleState& s, const Tensor& skip) {
  TG_CHECK(skip.defined() && skip.dtype() == DType::UInt8 && skip.dim() == 0 &&
               skip.device() == s.scale.device(),
           "update_loss_scale: the skip flag must be a 0-d uint8 tensor on ", s.scale.device());
  const kernels::LossScaleUpdateArgs args{s.scale.data_ptr<float>(),
                                          s.growth_tracker.data_ptr<int64_t>(),
                                          s.skipped_steps.data_ptr<int64_t>(),
                                          s.step_scale.data_ptr<float>(),
                                          s.step_skipped.data_ptr<uint8_t>(),
                                          skip.data_ptr<uint8_t>(),
                                          s.options.growth_factor,
                                          s.options.backoff_factor,
                                          s.options.growth_interval};
  TG_ON_DEVICE(s.scale.device(), kernels::cpu::update_loss_scale(args), stream,
               kernels::cuda::update_loss_scale(args, stream));
  for (const Tensor* t :
       {&s.scale, &s.growth_tracker, &s.skipped_steps, &s.step_scale, &s.step_skipped}) {
    t->bump_version();
  }
}

}  // namespace tg
