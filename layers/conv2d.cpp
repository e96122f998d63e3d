#include "conv2d.h"

#include "../core/factory.h"
#include "../core/ops.h"
#include "batch_norm.h"
#include "init.h"

namespace tg::layers {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel, const Conv2dOptions& conv,
               const TensorOptions& options)
    : Module("Conv2d"),
      in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_(kernel),
      conv_(conv) {
  TG_CHECK(in_channels > 0 && out_channels > 0 && kernel[0] > 0 && kernel[1] > 0,
           "Conv2d: channels and kernel sizes must be positive, got in ", in_channels, ", out ",
           out_channels, ", kernel ", kernel[0], "x", kernel[1]);
  TG_CHECK(conv.groups > 0 && in_channels % conv.groups == 0 && out_channels % conv.groups == 0,
           "Conv2d: groups (", conv.groups, ") must divide in_channels (", in_channels,
           ") and out_channels (", out_channels, ")");
  weight = empty({out_channels, in_channels / conv.groups, kernel[0], kernel[1]}, options);
  if (conv.bias) bias = empty({out_channels}, options);
  init::layer_default_(weight, bias);
  weight.requires_grad_();
  register_parameter("weight", &weight);
  if (conv.bias) {
    bias.requires_grad_();
    register_parameter("bias", &bias);
  }
}

Tensor Conv2d::forward(const Tensor& x) {
  TG_CHECK(x.dim() == 4 && x.size(1) == in_channels_, "Conv2d(", extra_repr(),
           "): input must be (N, ", in_channels_, ", H, W), got shape ", x.shape());
  return conv2d(x, weight, bias, conv_.stride, conv_.padding, conv_.dilation, conv_.groups);
}

Tensor Conv2d::forward_batch_norm_relu_max_pool(const Tensor& x, BatchNorm& norm) {
  if (conv_.groups != 1) return norm.forward_relu_max_pool(forward(x));
  TG_CHECK(x.dim() == 4 && x.size(1) == in_channels_, "Conv2d(", extra_repr(),
           "): input must be (N, ", in_channels_, ", H, W), got shape ", x.shape());
  return norm.forward_conv_relu_max_pool(x, weight, bias, conv_.stride, conv_.padding,
                                         conv_.dilation);
}

std::string Conv2d::extra_repr() const {
  std::string s = std::to_string(in_channels_) + ", " + std::to_string(out_channels_) +
                  ", kernel=" + std::to_string(kernel_[0]) + "x" + std::to_string(kernel_[1]);
  if (conv_.stride != Size2{1, 1})
    s += ", stride=" + std::to_string(conv_.stride[0]) + "x" + std::to_string(conv_.stride[1]);
  if (conv_.padding != Size2{0, 0})
    s += ", padding=" + std::to_string(conv_.padding[0]) + "x" + std::to_string(conv_.padding[1]);
  if (conv_.groups != 1) s += ", groups=" + std::to_string(conv_.groups);
  if (!bias.defined()) s += ", bias=false";
  return s;
}

}  // namespace tg::layers
