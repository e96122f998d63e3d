// Weight averaging (model fusion): an exponential moving average of parameters (EMA), or
// stochastic weight averaging (SWA, Izmailov et al. 2018: the plain mean of the weights
// visited at chosen steps), kept beside the model and updated after optimizer steps.
//
// Note [weight averaging]
//   EMA:  avg ← decay·avg + (1 − decay)·p, the first update copying p
//   SWA:  avg ← avg + (p − avg) / (n + 1), n the updates so far (equal weights)
// as torch.optim.swa_utils.AveragedModel does (EMA with its usual avg_fn). The averages
// are copies on the tensors' devices, updated with device ops (nothing waits for the
// device). Averaged weights change what BatchNorm layers see: recompute their statistics
// afterwards (layers::update_batch_norm). optim/ knows nothing of layers/: the tensors come
// as a NamedTensors list (model.named_parameters()).
//
// Tests: tests/unit/averaging_test.cpp
#pragma once

#include <cstdint>

#include "../core/state_dict.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg::optim {

class AveragedWeights {
 public:
  // EMA with decay in [0, 1): the average of `params` as they will be at each update.
  static AveragedWeights ema(const NamedTensors& params, double decay);
  // SWA: the mean over every update.
  static AveragedWeights swa(const NamedTensors& params);

  // Folds the current values of the tensors given at construction into the average.
  void update();
  int64_t updates() const { return updates_; }
  // The averages, under the parameters' names (empty values before the first update).
  const NamedTensors& averages() const { return averages_; }
  // Copies the averages into `target` by name (e.g. another model's named_parameters(), or
  // the same model's to evaluate the average in place); strict, checked before writing.
  // Throws before the first update.
  void copy_to(const NamedTensors& target) const;

 private:
  AveragedWeights(const NamedTensors& params, double decay, bool equal_weights);
  NamedTensors params_, averages_;
  double decay_;
  bool equal_weights_;
  int64_t updates_ = 0;
};

}  // namespace tg::optim

TG_API_END
