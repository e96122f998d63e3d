// AveragedWeights (optim/averaging.h, Note [weight averaging]).
#include "averaging.h"

#include "../core/autograd.h"
#include "../core/ops.h"
#include "../foundation/error.h"

namespace tg::optim {

AveragedWeights::AveragedWeights(const NamedTensors& params, double decay, bool equal_weights)
    : params_(params), decay_(decay), equal_weights_(equal_weights) {
  TG_CHECK(!params.empty(), "AveragedWeights: no tensors to average");
  for (const auto& [name, p] : params) {
    TG_CHECK(p.defined() && is_floating(p.dtype()), "AveragedWeights: '", name,
             "' is not a defined floating-point tensor");
  }
}

AveragedWeights AveragedWeights::ema(const NamedTensors& params, double decay) {
  TG_CHECK(decay >= 0 && decay < 1, "AveragedWeights::ema: decay must be in [0, 1), got ", decay);
  return AveragedWeights(params, decay, false);
}

AveragedWeights AveragedWeights::swa(const NamedTensors& params) {
  return AveragedWeights(params, 0.0, true);
}

void AveragedWeights::update() {
  NoGradGuard no_grad;
  if (updates_ == 0) {
    averages_.clear();
    for (const auto& [name, p] : params_) averages_.emplace_back(name, p.detach().clone());
    updates_ = 1;
    return;
  }
  // Weight of the new values: 1/(n+1) for SWA, 1 − decay for EMA.
  const double w = equal_weights_ ? 1.0 / static_cast<double>(updates_ + 1) : 1.0 - decay_;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& avg = averages_[i].second;
    const Tensor p = params_[i].second.detach();
    add_(avg, mul(sub(p, avg), w));  // avg += w·(p − avg)
  }
  ++updates_;
}

void AveragedWeights::copy_to(const NamedTensors& target) const {
  TG_CHECK(updates_ > 0, "AveragedWeights::copy_to: no update yet, nothing averaged");
  const auto pairs = match_state("AveragedWeights::copy_to", target, averages_, true, true);
  NoGradGuard no_grad;
  for (const auto& [destination, source] : pairs) {
    Tensor d = destination;
    d.copy_(source);
  }
}

}  // namespace tg::optim
