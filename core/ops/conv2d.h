// 2-D convolution of (N, C_in, H, W) with weight (C_out, C_in / groups, kh, kw) and an
// optional bias (C_out), differentiable in all three.
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/core/tensor.h"

TG_API_BEGIN

namespace tg {

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              Size2 stride = {1, 1}, Size2 padding = {0, 0}, Size2 dilation = {1, 1},
              int64_t groups = 1);

}  // namespace tg

TG_API_END
