// Optimizer: gradient clipping: by the global norm (a fixed threshold, or one from the
// run's history), by value, and unit-wise adaptive clipping in the step.
#include <cmath>

#include "../core/autograd.h"
#include "optimizer.h"

namespace tg::optim {

std::vector<Tensor> Optimizer::all_grads(const char* op) {
  check_members(op, false);
  std::vector<Tensor> grads;
  for (const FlatGroup& g : flat_) {
    TG_CHECK(g.device == flat_.front().device, op, ": parameters on ", g.device, " and ",
             flat_.front().device, "; the global norm needs one device");
    grads.push_back(g.grads);
  }
  return grads;
}

Tensor Optimizer::clip_grad_norm(double max_norm) {
  TG_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be positive, got ", max_norm);
  // clip_'s buffers are reused after the first call.
  mark_loss_scale(clip_);
  global_grad_norm_(all_grads("clip_grad_norm"), max_norm, clip_);
  clip_pending_ = true;
  return in_parameter_dtype(clip_.norm);
}

void Optimizer::clip_grad_value(double value) {
  TG_CHECK(value > 0 && std::isfinite(value), name(),
           ".clip_grad_value: value must be finite and > 0, got ", value);
  check_members("clip_grad_value", false);
  if (gradients_scaled()) unscale_gradients();  // the bound is on the true gradients
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  for (const FlatGroup& g : flat_) grads.push_back(g.grads);
  clip_grad_value_(grads, value);
}

Tensor Optimizer::grad_norm() {
  mark_loss_scale(measure_state_);
  global_grad_norm_(all_grads("grad_norm"), 0.0, measure_state_);
  return in_parameter_dtype(measure_state_.norm);
}

// The float64 norm (Note [clip scalars]) in the parameters' dtype, as PyTorch returns it;
// float64 when the groups mix dtypes. A device-side conversion: nothing waits.
Tensor Optimizer::in_parameter_dtype(const Tensor& norm) const {
  for (const FlatGroup& g : flat_) {
    if (g.params.dtype() != flat_.front().params.dtype()) return norm;
  }
  return norm.to(flat_.front().params.dtype());
}

void Optimizer::set_history_clip(const HistoryClipOptions& options) {
  for (const FlatGroup& g : flat_) {
    TG_CHECK(g.device == flat_.front().device, name(), ".set_history_clip: parameters on ",
             g.device, " and ", flat_.front().device, "; the global norm needs one device");
  }
  history_ = make_clip_history(options, flat_.front().device);  // checks the options
  history_options_ = options;
  history_on_ = true;
}

Tensor Optimizer::clip_grad_norm_auto() {
  TG_CHECK(history_on_, name(), ".clip_grad_norm_auto: no history clip set (set_history_clip)");
  mark_loss_scale(clip_);
  global_grad_norm_(all_grads("clip_grad_norm_auto"), 0.0, clip_);  // measures
  history_clip_(clip_, history_, history_options_);                 // scale from the history
  clip_pending_ = true;
  return in_parameter_dtype(clip_.norm);
}

// In step(), before the updates: the groups with agc_lambda > 0.
void Optimizer::clip_units() {
  for (const FlatGroup& g : flat_) {
    const UnitClip clip = unit_clip(g.group);
    if (clip.agc_lambda == 0) continue;
    TG_CHECK(!clip_pending_, name(), ".step: group ", g.group, " clips unit-wise (agc_lambda ",
             clip.agc_lambda, "), and the global norm was clipped too; adaptive clipping ",
             "takes the place of global-norm clipping (Brock et al. 2021): use one");
    if (gradients_scaled()) unscale_gradients();  // the ratio is of the true gradients
    unit_clip_(g.params, g.grads, g.unit_starts, clip);
  }
}

}  // namespace tg::optim
