// layer_norm (Ba et al. 2016), as PyTorch's F.layer_norm: each sample normalised over its
// last dims (`normalized_shape`, the input's trailing shape) to zero mean and unit variance
// (the biased variance, + eps), then scaled by `weight` and shifted by `bias` (each of
// normalized_shape, or undefined). Statistics per sample, so unlike batch_norm it behaves
// the same in training and evaluation and for a batch of one. A composition of the
// elementwise and reduction ops (differentiable through them), on both devices.
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

}  // namespace tg

TG_API_END
