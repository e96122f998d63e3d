// The optimizers' hyperparameters: plain structs of doubles with PyTorch's defaults, shared
// by the optimizers (optim/), the update front-ends (core/ops/update.h) and the fused
// kernels (kernels/<optimizer>.h), which include this header as they include dtype.h.
// Doubles, not floats: float fields made float64 parameter groups drift from PyTorch.
#pragma once

#include "tamegrad/config.h"

namespace tg::optim {

TG_API_BEGIN

// Note [regularisation names] (kernels/update_common.h): three separate penalties, any
// combination of which may be set.
struct Regularization {
  double l2_penalty = 0;              // coupled L2: λ·p added to the gradient
  double l1_penalty = 0;              // coupled L1: λ·sign(p) added to the gradient
  double decoupled_weight_decay = 0;  // AdamW-style: p ← p·(1 - lr·λ) before the update
};

struct AdamParams {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  bool amsgrad = false;
  Regularization regularization;
};

struct SgdParams {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  bool nesterov = false;
  Regularization regularization;
};

struct AdagradParams {
  double lr = 1e-2;
  double lr_decay = 0;
  double initial_accumulator = 0;
  double eps = 1e-10;
  Regularization regularization;
};

struct RmspropParams {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double momentum = 0;
  bool centered = false;
  Regularization regularization;
};

TG_API_END

}  // namespace tg::optim
