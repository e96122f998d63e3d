// 2-D pooling on (N, C, H, W) tensors, differentiable. padding <= kernel / 2; stride
// defaults to the kernel size (0 = default).
#pragma once

#include <array>

#include "core/tensor.h"

namespace tg {

using Size2 = std::array<int64_t, 2>;  // (height, width)

Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0});
// Divides by the window including padding (count_include_pad = true).
Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0});

}  // namespace tg
