// The optimizers' hyperparameters: plain structs of doubles with PyTorch's defaults, shared
// by the optimizers (optim/), the update front-ends (core/ops/<optimizer>.h) and the fused
// kernels (kernels/<optimizer>.h): foundation, so that no floor includes a higher one.
// Doubles, not floats: float fields made float64 parameter groups drift from PyTorch.
#pragma once

#include <cstdint>

#include "config.h"

namespace tg::optim {

TG_API_BEGIN

// Note [regularisation names] (kernels/update_common.h): three separate penalties, any
// combination of which may be set.
struct Regularization {
  double l2_penalty = 0;              // coupled L2: λ·p added to the gradient
  double l1_penalty = 0;              // coupled L1: λ·sign(p) added to the gradient
  double decoupled_weight_decay = 0;  // AdamW-style: p ← p·(1 - lr·λ) before the update
};

// Adaptive gradient clipping, unit-wise (Brock et al. 2021, NFNets; kernels/agc.h): before
// the update each unit's gradient (a row of a weight: one output unit; a whole vector for a
// bias or a gain) is scaled down to at most lambda·max(‖unit's weights‖, eps). Per group, so
// the classifier can be left unclipped as the paper does. Replaces global-norm clipping.
struct UnitClip {
  double agc_lambda = 0;  // 0: off; NFNets use 0.01 to 0.16 (smaller for larger batches)
  double agc_eps = 1e-3;  // the floor on a unit's weight norm (zero-initialised units)
};

// History-based clipping of the global norm (kernels/history_clip.h), against a threshold
// the run learns from its own recent norms:
//   Percentile  AutoClip (Seetharaman et al. 2020): the `percentile`-th percentile of the
//               last `window` norms, this step's included;
//   ZScore      ZClip-style: norms more than `z` standard deviations above a moving mean
//               (smoothing `beta`) are clipped to mean + z·std, after `warmup` steps that
//               only measure.
enum class HistoryRule : int { Percentile, ZScore };
struct HistoryClipOptions {
  HistoryRule rule = HistoryRule::Percentile;
  double percentile = 10;  // in [0, 100]; AutoClip's paper found 10 good across tasks
  int64_t window = 1000;   // norms remembered (1 to 4096)
  double z = 2.5;
  double beta = 0.97;
  int64_t warmup = 25;
};

// A loss scaler's options (optim/loss_scaler.h): PyTorch's GradScaler defaults.
struct LossScalerOptions {
  double init_scale = 65536.0;     // 2^16
  double growth_factor = 2.0;      // > 1
  double backoff_factor = 0.5;     // in (0, 1)
  int64_t growth_interval = 2000;  // clean steps between growths, >= 1
};

struct AdamParams {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  bool amsgrad = false;
  Regularization regularization{};
  UnitClip unit_clip{};
};

// AdamW's own, as torch.optim.AdamW: its weight_decay (default 0.01) is decoupled, so
// AdamW cannot be built from AdamParams (whose decay defaults to 0) by mistake.
struct AdamWParams {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  bool amsgrad = false;
  double weight_decay = 1e-2;  // decoupled: p ← p·(1 - lr·λ) before the update
  double l1_penalty = 0;       // coupled L1, as in the other optimizers
  UnitClip unit_clip{};
};

struct SGDParams {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  bool nesterov = false;
  Regularization regularization{};
  UnitClip unit_clip{};
};

struct AdagradParams {
  double lr = 1e-2;
  double lr_decay = 0;
  double initial_accumulator = 0;
  double eps = 1e-10;
  Regularization regularization{};
  UnitClip unit_clip{};
};

struct RMSpropParams {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double momentum = 0;
  bool centered = false;
  Regularization regularization{};
  UnitClip unit_clip{};
};

// Each struct's fields by name, as f(name, field&) with field a double or a bool: how the
// optimizers' state dicts save and load them (PyTorch's param_groups entries).
template <typename F>
void for_each_field(Regularization& r, F&& f) {
  f("l2_penalty", r.l2_penalty);
  f("l1_penalty", r.l1_penalty);
  f("decoupled_weight_decay", r.decoupled_weight_decay);
}
template <typename F>
void for_each_field(UnitClip& c, F&& f) {
  f("agc_lambda", c.agc_lambda);
  f("agc_eps", c.agc_eps);
}
template <typename F>
void for_each_field(AdamParams& h, F&& f) {
  f("lr", h.lr);
  f("beta1", h.beta1);
  f("beta2", h.beta2);
  f("eps", h.eps);
  f("amsgrad", h.amsgrad);
  for_each_field(h.regularization, f);
  for_each_field(h.unit_clip, f);
}
template <typename F>
void for_each_field(SGDParams& h, F&& f) {
  f("lr", h.lr);
  f("momentum", h.momentum);
  f("dampening", h.dampening);
  f("nesterov", h.nesterov);
  for_each_field(h.regularization, f);
  for_each_field(h.unit_clip, f);
}
template <typename F>
void for_each_field(AdagradParams& h, F&& f) {
  f("lr", h.lr);
  f("lr_decay", h.lr_decay);
  f("initial_accumulator", h.initial_accumulator);
  f("eps", h.eps);
  for_each_field(h.regularization, f);
  for_each_field(h.unit_clip, f);
}
template <typename F>
void for_each_field(RMSpropParams& h, F&& f) {
  f("lr", h.lr);
  f("alpha", h.alpha);
  f("eps", h.eps);
  f("momentum", h.momentum);
  f("centered", h.centered);
  for_each_field(h.regularization, f);
  for_each_field(h.unit_clip, f);
}

TG_API_END

}  // namespace tg::optim
