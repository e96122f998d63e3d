// The losses, as functions: cross-entropy (with label smoothing, class weights,
// ignore_index, K-dimensional scores, probability targets), NLL, MSE and binary
// cross-entropy on logits. Differentiable; compositions of softmax and elementwise ops.
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

enum class Reduction { None, Mean, Sum };

// logits (N, C), int64 class targets (N,) → the mean (or sum, or per-sample) of
// -Σ_c q_c log softmax(logits)_c with q = (1 - ε)·onehot(target) + ε/C (label smoothing ε).
// Fused: one log-softmax forward, and backward (softmax - q)·grad in one composition.
// K-dimensional logits (N, C, d1, ...) with targets (N, d1, ...), and probability targets
// (float, the logits' shape), take the general path below with these options. Targets
// must lie in [0, C): this form has no ignore_index (use the options).
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     Reduction reduction = Reduction::Mean, double label_smoothing = 0.0);

// PyTorch's F.cross_entropy / F.nll_loss options (Note [class losses] in core/ops/loss.cpp).
struct ClassLossOptions {
  Tensor weight{};              // (C,) per-class weights in the scores' dtype, or undefined (all 1)
  int64_t ignore_index = -100;  // class-index targets equal to it add nothing, count nothing
  Reduction reduction = Reduction::Mean;  // Mean: Σ w[target]·loss / Σ w[target]
  double label_smoothing = 0.0;           // cross_entropy only
};
// scores (N, C) or (N, C, d1, ...); target int64 class indices (N) or (N, d1, ...), or
// (cross_entropy only) float class probabilities of the scores' shape.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const ClassLossOptions& options);

// log-probabilities (N, C), targets (N,): -log_probs[i, target[i]], reduced.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target,
                Reduction reduction = Reduction::Mean);
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const ClassLossOptions& options);
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
// Stable: softplus(x) - x·y, reduced.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::Mean);

}  // namespace tg

TG_API_END
