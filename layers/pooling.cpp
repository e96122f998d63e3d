#include "tamegrad/layers/pooling.h"

#include "tamegrad/core/ops.h"

namespace tg::layers {

namespace {

void check_window(const char* layer, Size2 kernel, Size2 stride, Size2 padding) {
  TG_CHECK(kernel[0] > 0 && kernel[1] > 0 && stride[0] >= 0 && stride[1] >= 0 && padding[0] >= 0 &&
               padding[1] >= 0,
           layer, ": kernel must be positive and stride, padding >= 0, got kernel ", kernel[0], "x",
           kernel[1], ", stride ", stride[0], "x", stride[1], ", padding ", padding[0], "x",
           padding[1]);
}

std::string window_repr(Size2 kernel, Size2 stride) {
  std::string s = "kernel=" + std::to_string(kernel[0]) + "x" + std::to_string(kernel[1]);
  if (stride != Size2{0, 0} && stride != kernel)
    s += ", stride=" + std::to_string(stride[0]) + "x" + std::to_string(stride[1]);
  return s;
}

}  // namespace

MaxPool2d::MaxPool2d(Size2 kernel, Size2 stride, Size2 padding)
    : Module("MaxPool2d"), kernel_(kernel), stride_(stride), padding_(padding) {
  check_window("MaxPool2d", kernel, stride, padding);
}
Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, kernel_, stride_, padding_); }
std::string MaxPool2d::extra_repr() const { return window_repr(kernel_, stride_); }

AvgPool2d::AvgPool2d(Size2 kernel, Size2 stride, Size2 padding)
    : Module("AvgPool2d"), kernel_(kernel), stride_(stride), padding_(padding) {
  check_window("AvgPool2d", kernel, stride, padding);
}
Tensor AvgPool2d::forward(const Tensor& x) { return avg_pool2d(x, kernel_, stride_, padding_); }
std::string AvgPool2d::extra_repr() const { return window_repr(kernel_, stride_); }

}  // namespace tg::layers
