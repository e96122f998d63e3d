#include "pool.h"

#include "../core/ops.h"

namespace tg::layers {

Pool2d::Pool2d(const char* type_name, bool is_max, const Window& window)
    : Module(type_name), is_max_(is_max), window_(window) {
  const Size2 &kernel = window.kernel, &stride = window.stride, &padding = window.padding;
  TG_CHECK(kernel[0] > 0 && kernel[1] > 0 && stride[0] >= 0 && stride[1] >= 0 && padding[0] >= 0 &&
               padding[1] >= 0 && window.dilation[0] >= 1 && window.dilation[1] >= 1,
           type_name,
           ": kernel must be positive, stride and padding >= 0, dilation >= 1; got kernel ",
           kernel[0], "x", kernel[1], ", stride ", stride[0], "x", stride[1], ", padding ",
           padding[0], "x", padding[1], ", dilation ", window.dilation[0], "x", window.dilation[1]);
}

Tensor Pool2d::forward(const Tensor& x) {
  const Window& w = window_;
  return is_max_ ? max_pool2d(x, w.kernel, w.stride, w.padding, w.dilation, w.ceil_mode)
                 : avg_pool2d(x, w.kernel, w.stride, w.padding, w.ceil_mode, w.count_include_pad);
}

bool Pool2d::is_max_2x2() const {
  const Window& w = window_;
  return is_max_ && w.kernel == Size2{2, 2} && (w.stride == Size2{0, 0} || w.stride == w.kernel) &&
         w.padding == Size2{0, 0} && w.dilation == Size2{1, 1} && !w.ceil_mode;
}

std::string Pool2d::extra_repr() const {
  const Window& w = window_;
  std::string s = "kernel=" + std::to_string(w.kernel[0]) + "x" + std::to_string(w.kernel[1]);
  if (w.stride != Size2{0, 0} && w.stride != w.kernel)
    s += ", stride=" + std::to_string(w.stride[0]) + "x" + std::to_string(w.stride[1]);
  if (w.padding != Size2{0, 0})
    s += ", padding=" + std::to_string(w.padding[0]) + "x" + std::to_string(w.padding[1]);
  if (w.dilation != Size2{1, 1})
    s += ", dilation=" + std::to_string(w.dilation[0]) + "x" + std::to_string(w.dilation[1]);
  if (w.ceil_mode) s += ", ceil_mode=true";
  if (!w.count_include_pad) s += ", count_include_pad=false";
  return s;
}

MaxPool2d::MaxPool2d(Size2 kernel, Size2 stride, Size2 padding, Size2 dilation, bool ceil_mode)
    : Pool2d("MaxPool2d", true, {kernel, stride, padding, dilation, ceil_mode, true}) {}

AvgPool2d::AvgPool2d(Size2 kernel, Size2 stride, Size2 padding, bool ceil_mode,
                     bool count_include_pad)
    : Pool2d("AvgPool2d", false, {kernel, stride, padding, {1, 1}, ceil_mode, count_include_pad}) {}

}  // namespace tg::layers
