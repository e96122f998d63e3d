// 2-D pooling on (N, C, H, W) tensors, differentiable. padding <= kernel / 2; stride
// defaults to the kernel size (0 = default).
#pragma once

#include <array>

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

// PyTorch's F.max_pool2d / F.avg_pool2d, in the same argument order. ceil_mode rounds the
// output size up (a last, partial window; never one that starts in the right padding);
// dilation spaces max pooling's taps; count_include_pad = false divides an average by
// the input elements of its window only.
Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0},
                  Size2 dilation = {1, 1}, bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0},
                  bool ceil_mode = false, bool count_include_pad = true);

}  // namespace tg

TG_API_END
