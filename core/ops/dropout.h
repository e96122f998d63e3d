// Dropout as a differentiable op (layers hold the rate and the training flag).
#pragma once

#include "../../foundation/config.h"
#include "../generator.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

// Zeroes each element with probability p and scales the rest by 1/(1-p) in training;
// the identity in eval or with p = 0. The mask is a function of the generator's
// (seed, offset), identical on CPU and CUDA, regenerated in backward (Note [dropout RNG]).
Tensor dropout(const Tensor& x, double p, bool training, Generator* generator = nullptr);
// dropout(relu(x), ...), the same values, draws and gradients; on the CPU one pass each way
// (Note [relu + dropout], kernels/dropout.h). Sequential runs a ReLU and a Dropout with it.
Tensor relu_dropout(const Tensor& x, double p, bool training, Generator* generator = nullptr);

}  // namespace tg

TG_API_END
