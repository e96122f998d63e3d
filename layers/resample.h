// AdaptiveAvgPool2d and Upsample, as torch.nn's: parameter-free wrappers of
// core/ops/resample.h over (N, C, H, W) or unbatched (C, H, W).
#pragma once

#include "../core/ops/resample.h"
#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

// Average pooling to a fixed output size whatever the input's ({1, 1}: global average
// pooling).
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  Size2 output_size_;
};

// Resizing by nearest-neighbour or bilinear interpolation to `size` or by `scale_factor`
// (InterpolateOptions: exactly one of them).
class Upsample : public Module {
 public:
  explicit Upsample(const InterpolateOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  InterpolateOptions options_;
};

}  // namespace tg::layers

TG_API_END
