#include "tamegrad/layers/pooling.h"

#include "tamegrad/core/ops.h"

namespace tg::layers {

Pool2d::Pool2d(const char* type_name, PoolOp op, Size2 kernel, Size2 stride, Size2 padding)
    : Module(type_name), op_(op), kernel_(kernel), stride_(stride), padding_(padding) {
  TG_CHECK(kernel[0] > 0 && kernel[1] > 0 && stride[0] >= 0 && stride[1] >= 0 && padding[0] >= 0 &&
               padding[1] >= 0,
           type_name, ": kernel must be positive and stride, padding >= 0, got kernel ", kernel[0],
           "x", kernel[1], ", stride ", stride[0], "x", stride[1], ", padding ", padding[0], "x",
           padding[1]);
}

Tensor Pool2d::forward(const Tensor& x) { return op_(x, kernel_, stride_, padding_); }

std::string Pool2d::extra_repr() const {
  std::string s = "kernel=" + std::to_string(kernel_[0]) + "x" + std::to_string(kernel_[1]);
  if (stride_ != Size2{0, 0} && stride_ != kernel_)
    s += ", stride=" + std::to_string(stride_[0]) + "x" + std::to_string(stride_[1]);
  if (padding_ != Size2{0, 0})
    s += ", padding=" + std::to_string(padding_[0]) + "x" + std::to_string(padding_[1]);
  return s;
}

MaxPool2d::MaxPool2d(Size2 kernel, Size2 stride, Size2 padding)
    : Pool2d("MaxPool2d", &max_pool2d, kernel, stride, padding) {}

AvgPool2d::AvgPool2d(Size2 kernel, Size2 stride, Size2 padding)
    : Pool2d("AvgPool2d", &avg_pool2d, kernel, stride, padding) {}

}  // namespace tg::layers
