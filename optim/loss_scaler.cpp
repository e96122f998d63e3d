// The loss scaler (loss_scaler.h, Note [loss scaling]) and the optimizer's side of it.
#include "loss_scaler.h"

#include <cmath>

#include "../core/autograd.h"
#include "../core/factory.h"
#include "../core/ops.h"

namespace tg::optim {

LossScaler::LossScaler(Optimizer& optimizer, const LossScalerOptions& options) {
  TG_CHECK(!optimizer.flat_groups().empty(), "LossScaler: the optimizer has no parameters");
  const Device device = optimizer.flat_groups().front().device;
  for (const FlatGroup& g : optimizer.flat_groups()) {
    TG_CHECK(g.device == device, "LossScaler: parameters on ", g.device, " and ", device,
             "; the scaler keeps its state on one device");
  }
  state_ = std::make_shared<LossScaleState>(make_loss_scale_state(options, device));
  optimizer.attach_loss_scaler(state_);
}

Tensor LossScaler::scale(const Tensor& loss) const {
  TG_CHECK(loss.defined() && is_floating(loss.dtype()), "LossScaler.scale: the loss must be a ",
           "floating-point tensor, got ", loss.defined() ? dtype_name(loss.dtype()) : "none");
  TG_CHECK(loss.device() == state_->scale.device(), "LossScaler.scale: the loss is on ",
           loss.device(), ", the scale on ", state_->scale.device());
  return mul(loss, state_->scale.to(loss.dtype()));
}

void LossScaler::unscale_(Optimizer& optimizer) const {
  TG_CHECK(optimizer.loss_scale_state() == state_.get(),
           "LossScaler.unscale_: the optimizer has another scaler (or none) attached");
  optimizer.unscale_gradients();
}

double LossScaler::scale_value() const { return state_->scale.item<float>(); }
int64_t LossScaler::skipped_steps() const { return state_->skipped_steps.item<int64_t>(); }

// ---- the optimizer's side ----

void Optimizer::attach_loss_scaler(std::shared_ptr<LossScaleState> state) {
  TG_CHECK(state == nullptr || state->scale.device() == flat_.front().device, name(),
           ": a loss scaler on ", state->scale.device(), " for parameters on ",
           flat_.front().device);
  loss_scale_ = std::move(state);
}

void Optimizer::mark_loss_scale(ClipState& state) const {
  state.loss_scale = gradients_scaled() ? loss_scale_->scale : Tensor();
}

void Optimizer::unscale_gradients() {
  TG_CHECK(loss_scale_ != nullptr, name(), ".unscale_gradients: no loss scaler attached");
  TG_CHECK(!loss_scale_->unscaled, name(),
           ".unscale_gradients: already unscaled since the last step (PyTorch's rule too)");
  check_members("unscale_gradients", false);
  NoGradGuard no_grad;
  // 1 / scale in float64, rounded to float32: PyTorch's inverse scale.
  const Tensor scale = loss_scale_->scale.to(DType::Float64);
  const Tensor inverse =
      div(full({}, 1.0, TensorOptions(DType::Float64).device(scale.device())), scale);
  for (FlatGroup& g : flat_) g.grads.copy_(mul(g.grads, inverse.to(g.grads.dtype())));
  loss_scale_->unscaled = true;
}

void Optimizer::append_loss_scaler_state(NamedTensors& out) const {
  if (loss_scale_ == nullptr) return;
  const LossScaleState& s = *loss_scale_;
  out.emplace_back("loss_scaler.scale", s.scale);
  out.emplace_back("loss_scaler.growth_tracker", s.growth_tracker);
  out.emplace_back("loss_scaler.skipped_steps", s.skipped_steps);
  out.emplace_back("loss_scaler.growth_factor", full({}, s.options.growth_factor, DType::Float64));
  out.emplace_back("loss_scaler.backoff_factor",
                   full({}, s.options.backoff_factor, DType::Float64));
  out.emplace_back("loss_scaler.growth_interval",
                   full({}, static_cast<double>(s.options.growth_interval), DType::Float64));
}

// Before anything is loaded: the saved options must be this scaler's (they are not state the
// run changes), and the saved scale a usable one.
void Optimizer::check_loss_scaler_state(const NamedTensors& state) const {
  if (loss_scale_ == nullptr) return;
  const LossScalerOptions& o = loss_scale_->options;
  auto value = [&](const char* key) {
    return find_state(state, key).to(Device::cpu()).to(DType::Float64).item<double>();
  };
  for (const auto& [key, own] :
       {std::pair<const char*, double>{"loss_scaler.growth_factor", o.growth_factor},
        {"loss_scaler.backoff_factor", o.backoff_factor},
        {"loss_scaler.growth_interval", static_cast<double>(o.growth_interval)}}) {
    TG_CHECK(value(key) == own, name(), ": ", key, " is ", value(key), " in the state dict but ",
             own, " in this scaler; make the scaler with the options it was saved with");
  }
  const double scale = value("loss_scaler.scale");
  TG_CHECK(scale > 0 && std::isfinite(scale), name(),
           ": loss_scaler.scale must be finite and > 0, got ", scale);
  TG_CHECK(value("loss_scaler.growth_tracker") >= 0 && value("loss_scaler.skipped_steps") >= 0,
           name(), ": loss_scaler.growth_tracker and skipped_steps must be >= 0");
}

}  // namespace tg::optim
