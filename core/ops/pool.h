// 2-D pooling on (N, C, H, W) tensors, differentiable. padding <= kernel / 2; stride
// defaults to the kernel size (0 = default).
#pragma once

#include <array>

#include "tamegrad/config.h"
#include "tamegrad/core/tensor.h"

TG_API_BEGIN

namespace tg {

Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0});
// Divides by the window including padding (count_include_pad = true).
Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0});

}  // namespace tg

TG_API_END
