// Resampling of (N, C, H, W) tensors (or unbatched (C, H, W)), differentiable:
// adaptive average pooling to a given output size (torch.nn.functional.adaptive_avg_pool2d)
// and upsampling / downsampling by interpolation (F.interpolate, modes nearest and
// bilinear).
//
// Each is separable: along H and W it is a fixed linear map, so y = A_h · x · A_wᵀ with
// A (out, in) built on the host from the sizes alone (Note [resampling as products]):
//   adaptive average: output i averages inputs [floor(i·in/out), ceil((i+1)·in/out));
//   nearest:          output i copies input min(floor(i·s), in − 1), s = in/out (or
//                     1/scale_factor when one is given, as PyTorch);
//   bilinear:         output i reads src = (i + 0.5)·s − 0.5 clamped at 0 (align_corners
//                     false) or i·(in − 1)/(out − 1) (true), weighting its two neighbours
//                     floor(src) and floor(src) + 1 by 1 − frac and frac.
// The products run on the matmul kernels of each device; gradients are the transposed maps.
#pragma once

#include <array>

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);

enum class InterpolateMode { Nearest, Bilinear };

// Exactly one of size and scale_factor is given (the other left {0, 0}); with a scale
// factor the output is floor(in · factor).
struct InterpolateOptions {
  Size2 size{0, 0};
  std::array<double, 2> scale_factor{0, 0};
  InterpolateMode mode = InterpolateMode::Nearest;
  bool align_corners = false;  // bilinear only, as PyTorch
};
Tensor interpolate(const Tensor& x, const InterpolateOptions& options);

}  // namespace tg

TG_API_END
