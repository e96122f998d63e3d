// conv1d: x (N, C_in, L) or unbatched (C_in, L), weight (C_out, C_in / groups, k), bias
// (C_out,) -> (N, C_out, L'), L' = (L + 2·padding − dilation·(k − 1) − 1) / stride + 1
// (torch.nn.functional.conv1d). Composed of conv2d over a height of one, so it runs on
// oneDNN / im2col on the CPU and cuDNN on the GPU, and its gradients are conv2d's.
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              int64_t stride = 1, int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);

}  // namespace tg

TG_API_END
