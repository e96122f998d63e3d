// EarlyStopping (optim/early_stopping.h).
#include "early_stopping.h"

#include <cmath>

#include "../core/autograd.h"
#include "../foundation/error.h"

namespace tg::optim {

EarlyStopping::EarlyStopping(const EarlyStoppingOptions& options) : options_(options) {
  TG_CHECK(options.patience >= 1, "EarlyStopping: patience must be >= 1, got ", options.patience);
  TG_CHECK(options.min_delta >= 0 && std::isfinite(options.min_delta),
           "EarlyStopping: min_delta must be finite and >= 0, got ", options.min_delta);
}

bool EarlyStopping::update(double value, const NamedTensors& state) {
  ++epochs_;
  if (std::isfinite(value) && value < best_ - options_.min_delta) {
    best_ = value;
    best_epoch_ = epochs_;
    if (options_.keep_best) {
      NoGradGuard no_grad;
      NamedTensors copy;
      copy.reserve(state.size());
      for (const auto& [name, tensor] : state) copy.emplace_back(name, tensor.detach().clone());
      snapshot_ = std::move(copy);
    }
  }
  if (wait() >= options_.patience) stopped_ = true;
  return stopped_;
}

bool EarlyStopping::restore_best(const NamedTensors& state) const {
  if (snapshot_.empty()) return false;
  // Checked before anything is written: a mismatch leaves `state` untouched.
  const auto pairs = match_state("EarlyStopping::restore_best", state, snapshot_, true, true);
  NoGradGuard no_grad;
  for (const auto& [target, source] : pairs) {
    Tensor destination = target;
    destination.copy_(source);
  }
  return true;
}

void EarlyStopping::set_progress(double best, int best_epoch, int epochs) {
  TG_CHECK(best_epoch >= 0 && epochs >= best_epoch, "EarlyStopping: best epoch ", best_epoch,
           " and epochs ", epochs, " do not fit");
  best_ = best;
  best_epoch_ = best_epoch;
  epochs_ = epochs;
  stopped_ = wait() >= options_.patience;
}

}  // namespace tg::optim
