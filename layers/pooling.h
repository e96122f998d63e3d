// 2-D pooling layers over (N, C, H, W): MaxPool2d and AvgPool2d (padding counted in the
// average, PyTorch's default). The stride defaults to the kernel size.
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/layers/module.h"

TG_API_BEGIN

namespace tg::layers {

// What both pooling layers share: the window and its checks.
class Pool2d : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 protected:
  using PoolOp = Tensor (*)(const Tensor&, Size2, Size2, Size2);
  Pool2d(const char* type_name, PoolOp op, Size2 kernel, Size2 stride, Size2 padding);

 private:
  PoolOp op_;
  Size2 kernel_, stride_, padding_;
};

class MaxPool2d : public Pool2d {
 public:
  explicit MaxPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0});
};

class AvgPool2d : public Pool2d {
 public:
  explicit AvgPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0});
};

}  // namespace tg::layers

TG_API_END
