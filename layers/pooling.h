// 2-D pooling layers over (N, C, H, W): MaxPool2d and AvgPool2d (padding counted in the
// average, PyTorch's default). The stride defaults to the kernel size.
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/layers/module.h"

TG_API_BEGIN

namespace tg::layers {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  Size2 kernel_, stride_, padding_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  Size2 kernel_, stride_, padding_;
};

}  // namespace tg::layers

TG_API_END
