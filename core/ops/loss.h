// The losses, as functions: cross-entropy (with label smoothing), NLL, MSE and binary
// cross-entropy on logits. Differentiable; compositions of softmax and elementwise ops.
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/core/tensor.h"

TG_API_BEGIN

namespace tg {

enum class Reduction { None, Mean, Sum };

// logits (N, C), int64 class targets (N,) → the mean (or sum, or per-sample) of
// -Σ_c q_c log softmax(logits)_c with q = (1 - ε)·onehot(target) + ε/C (label smoothing ε).
// Fused: one log-softmax forward, and backward (softmax - q)·grad in one composition.
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     Reduction reduction = Reduction::Mean, double label_smoothing = 0.0);
// log-probabilities (N, C), targets (N,): -log_probs[i, target[i]], reduced.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target,
                Reduction reduction = Reduction::Mean);
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
// Stable: softplus(x) - x·y, reduced.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::Mean);

}  // namespace tg

TG_API_END
