// Conv2d: x (N, C_in, H, W) -> y (N, C_out, H', W'), H' = (H + 2·pad - dil·(k - 1) - 1) /
// stride + 1. Weight (C_out, C_in / groups, kH, kW) and bias (C_out,) start as PyTorch's:
// uniform in ±1/sqrt(fan_in), fan_in = C_in / groups · kH · kW.
#pragma once

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

class BatchNorm;

struct Conv2dOptions {
  Size2 stride{1, 1};
  Size2 padding{0, 0};
  Size2 dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel, const Conv2dOptions& conv = {},
         const TensorOptions& options = {});
  Tensor forward(const Tensor& x) override;
  // norm.forward_relu_max_pool(forward(x)), as one op where it can be
  // (BatchNorm::forward_conv_relu_max_pool): what Sequential runs for this layer followed by
  // a BatchNorm2d, a ReLU and a MaxPool2d(2) (Note [fused neighbours], layers/sequential.h).
  Tensor forward_batch_norm_relu_max_pool(const Tensor& x, BatchNorm& norm);
  std::string extra_repr() const override;

  Tensor weight;  // (out_channels, in_channels / groups, kH, kW)
  Tensor bias;    // (out_channels,) or undefined

 private:
  int64_t in_channels_, out_channels_;
  Size2 kernel_;
  Conv2dOptions conv_;
};

}  // namespace tg::layers

TG_API_END
