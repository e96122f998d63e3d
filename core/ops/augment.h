// Data augmentation on the device that holds the batch (kernels/augment.h): random crop
// with zero padding and random horizontal flip, per sample, seeded. Not differentiable:
// it belongs to the input pipeline (data/dataloader.h applies it).
#pragma once

#include <cstdint>

#include "../../foundation/config.h"
#include "../generator.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

// x: (N, C, H, W) floating point. Each sample is shifted by a draw in [-pad, pad]² (zeros
// fill in) and, with `flip`, mirrored left-right with probability 1/2. The draws come
// from `state` (Note [augmentation draws]), so a state gives the same batch on any device.
Tensor random_crop_flip(const Tensor& x, int64_t pad, bool flip, RandomState state);

}  // namespace tg

TG_API_END
