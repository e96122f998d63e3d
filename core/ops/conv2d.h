// 2-D convolution of (N, C_in, H, W) with weight (C_out, C_in / groups, kh, kw) and an
// optional bias (C_out), differentiable in all three.
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              Size2 stride = {1, 1}, Size2 padding = {0, 0}, Size2 dilation = {1, 1},
              int64_t groups = 1);

// PyTorch's padding="valid" and padding="same". Valid: no padding. Same: the output keeps
// the input's height and width (stride 1 only, as in PyTorch); an odd total padding
// dilation·(k − 1) puts the extra row or column at the bottom or right, as PyTorch does.
enum class ConvPadding { Valid, Same };
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride,
              ConvPadding padding, Size2 dilation = {1, 1}, int64_t groups = 1);

}  // namespace tg

TG_API_END
