// 2-D pooling layers over (N, C, H, W): MaxPool2d (with dilation, ceil_mode) and AvgPool2d
// (ceil_mode; padding counted in the average unless count_include_pad is false), with
// PyTorch's defaults and argument order. The stride defaults to the kernel size.
#pragma once

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

// What both pooling layers share: the window and its checks.
class Pool2d : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  // Max pooling with a 2x2 window, stride 2, no padding or dilation, floor mode: what Sequential
  // may fuse with a BatchNorm and ReLU before it (Note [fused neighbours]).
  bool is_max_2x2() const;

 protected:
  struct Window {
    Size2 kernel, stride, padding, dilation;
    bool ceil_mode, count_include_pad;
  };
  Pool2d(const char* type_name, bool is_max, const Window& window);

 private:
  bool is_max_;
  Window window_;
};

class MaxPool2d : public Pool2d {
 public:
  explicit MaxPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0},
                     Size2 dilation = {1, 1}, bool ceil_mode = false);
};

class AvgPool2d : public Pool2d {
 public:
  explicit AvgPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0},
                     bool ceil_mode = false, bool count_include_pad = true);
};

}  // namespace tg::layers

TG_API_END
