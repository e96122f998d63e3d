// Dropout and batch normalisation as differentiable ops (the layers in layers/ hold the
// running statistics and the training flag).
#pragma once

#include "core/generator.h"
#include "core/tensor.h"

namespace tg {

// Zeroes each element with probability p and scales the rest by 1/(1-p) in training;
// the identity in eval or with p = 0. The mask is a function of the generator's
// (seed, offset), identical on CPU and CUDA, regenerated in backward (Note [dropout RNG]).
Tensor dropout(const Tensor& x, double p, bool training, Generator* generator = nullptr);

// x: (N, C) or (N, C, H, W). gamma/beta: (C,) or undefined. running_mean/var: (C,)
// buffers, updated in place in training (may be undefined there), required in eval.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& gamma, const Tensor& beta, bool training, double momentum = 0.1,
                  double eps = 1e-5);

}  // namespace tg
