// Conv1d (conv1d.h): PyTorch's parameters and initialisation around core/ops/conv1d.h.
#include "conv1d.h"

#include "../core/factory.h"
#include "../core/ops.h"
#include "init.h"

namespace tg::layers {

Conv1d::Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
               const Conv1dOptions& conv, const TensorOptions& options)
    : Module("Conv1d"),
      in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_size_(kernel_size),
      conv_(conv) {
  TG_CHECK(in_channels > 0 && out_channels > 0 && kernel_size > 0,
           "Conv1d: channels and kernel size must be positive, got in ", in_channels, ", out ",
           out_channels, ", kernel ", kernel_size);
  TG_CHECK(conv.groups > 0 && in_channels % conv.groups == 0 && out_channels % conv.groups == 0,
           "Conv1d: groups (", conv.groups, ") must divide in_channels (", in_channels,
           ") and out_channels (", out_channels, ")");
  weight = empty({out_channels, in_channels / conv.groups, kernel_size}, options);
  if (conv.bias) bias = empty({out_channels}, options);
  init::layer_default_(weight, bias);
  weight.requires_grad_();
  register_parameter("weight", &weight);
  if (conv.bias) {
    bias.requires_grad_();
    register_parameter("bias", &bias);
  }
}

Tensor Conv1d::forward(const Tensor& x) {
  TG_CHECK((x.dim() == 3 || x.dim() == 2) && x.size(-2) == in_channels_, "Conv1d(", extra_repr(),
           "): input must be (N, ", in_channels_, ", L) or (", in_channels_, ", L), got shape ",
           x.shape());
  return conv1d(x, weight, bias, conv_.stride, conv_.padding, conv_.dilation, conv_.groups);
}

std::string Conv1d::extra_repr() const {
  std::string repr = std::to_string(in_channels_) + ", " + std::to_string(out_channels_) +
                     ", kernel_size=" + std::to_string(kernel_size_);
  if (conv_.stride != 1) repr += ", stride=" + std::to_string(conv_.stride);
  if (conv_.padding != 0) repr += ", padding=" + std::to_string(conv_.padding);
  if (conv_.dilation != 1) repr += ", dilation=" + std::to_string(conv_.dilation);
  if (conv_.groups != 1) repr += ", groups=" + std::to_string(conv_.groups);
  if (!conv_.bias) repr += ", bias=false";
  return repr;
}

}  // namespace tg::layers
