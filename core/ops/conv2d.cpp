// Front-end of conv2d: checks, the kernels' three passes, the bias inside them (Note [conv2d
// bias], kernels/conv2d.h).
// Under autocast (Note [autocast], core/autocast.h) the passes take x, the weight and the
// output gradient rounded to the half dtype, and write float32.
#include "conv2d.h"

#include "../../kernels/conv2d.h"
#include "../context.h"
#include "conv2d_support.h"
#include "elementwise.h"
#include "op_support.h"

namespace tg {

using autograd::SavedTensor;

namespace {

// The device's cuDNN handle with what keys its plans (Note [algorithm cache]).
[[maybe_unused]] kernels::cuda::CudnnHandle cudnn_of(DeviceContext& ctx) {
  return {ctx.cudnn_handle(), ctx.device().index(), ctx.cudnn_generation()};
}

enum class Pass { Forward, BackwardData, BackwardFilter };

// Runs one pass into a new tensor of `shape` and `options`; the operands given are of
// `operands` (options' dtype, or a half dtype under autocast). The forward adds `bias` when
// given; the filter pass writes the bias's gradient into `grad_bias` when given.
Tensor run(Pass pass, const kernels::Conv2dGeometry& g, const Shape& shape, const Tensor& x,
           const Tensor& w, const Tensor& grad_out, const TensorOptions& options, DType operands,
           const Tensor& bias = Tensor(), Tensor* grad_bias = nullptr) {
  Tensor out = empty(shape, options);
  DeviceContext& ctx = context(options.device());
  kernels::Conv2dArgs args{operands,
                           g,
                           x.defined() ? x.raw_data_ptr() : nullptr,
                           w.defined() ? w.raw_data_ptr() : nullptr,
                           grad_out.defined() ? grad_out.raw_data_ptr() : nullptr,
                           out.raw_data_ptr(),
                           ctx.allow_tf32()};
  if (bias.defined()) args.bias = bias.raw_data_ptr();
  if (grad_bias != nullptr) {
    *grad_bias = empty({g.c_out}, options);
    args.grad_bias = grad_bias->raw_data_ptr();
  }
  [[maybe_unused]] const kernels::ScratchAllocator scratch =
      ops::scratch_allocator(options.device());

  switch (pass) {
    case Pass::Forward:
      TG_ON_DEVICE(options.device(), kernels::cpu::conv2d_forward(args), stream,
                   kernels::cuda::conv2d_forward(args, stream, cudnn_of(ctx), scratch));
      break;
    case Pass::BackwardData:
      TG_ON_DEVICE(options.device(), kernels::cpu::conv2d_backward_data(args), stream,
                   kernels::cuda::conv2d_backward_data(args, stream, cudnn_of(ctx), scratch));
      break;
    case Pass::BackwardFilter:
      TG_ON_DEVICE(options.device(), kernels::cpu::conv2d_backward_filter(args), stream,
                   kernels::cuda::conv2d_backward_filter(args, stream, cudnn_of(ctx), scratch));
      break;
  }
  return out;
}

}  // namespace

kernels::Conv2dGeometry ops::conv2d_geometry(const Tensor& x, const Tensor& w, Size2 stride,
                                             Size2 padding, Size2 dilation, int64_t groups) {
  ops::check_float_pair("conv2d", x, w);
  TG_CHECK(x.dim() == 4 && w.dim() == 4,
           "conv2d: expected input (N, C, H, W) and weight "
           "(C_out, C_in/groups, kh, kw), got ",
           x.shape(), " and ", w.shape());
  TG_CHECK(groups > 0 && x.size(1) % groups == 0 && w.size(0) % groups == 0, "conv2d: groups ",
           groups, " must divide input channels ", x.size(1), " and output channels ", w.size(0));
  TG_CHECK(w.size(1) * groups == x.size(1), "conv2d: weight ", w.shape(), " expects ",
           w.size(1) * groups, " input channels (groups ", groups, "), input ", x.shape(), " has ",
           x.size(1));
  kernels::Conv2dGeometry g{};
  g.n = x.size(0);
  g.c_in = x.size(1);
  g.h = x.size(2);
  g.w = x.size(3);
  g.c_out = w.size(0);
  g.kh = w.size(2);
  g.kw = w.size(3);
  g.stride_h = stride[0];
  g.stride_w = stride[1];
  g.pad_h = padding[0];
  g.pad_w = padding[1];
  g.dil_h = dilation[0];
  g.dil_w = dilation[1];
  g.groups = groups;
  TG_CHECK(g.stride_h > 0 && g.stride_w > 0 && g.dil_h > 0 && g.dil_w > 0 && g.pad_h >= 0 &&
               g.pad_w >= 0 && g.kh > 0 && g.kw > 0,
           "conv2d: need positive stride, dilation and kernel, non-negative padding");
  const Size2 out =
      ops::window_outputs("conv2d", {g.h, g.w}, {g.kh, g.kw}, stride, padding, dilation);
  g.out_h = out[0];
  g.out_w = out[1];
  return g;
}

TG_REGISTER_OP("conv2d");
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride,
              Size2 padding, Size2 dilation, int64_t groups) {
  const kernels::Conv2dGeometry g =
      ops::conv2d_geometry(x, weight, stride, padding, dilation, groups);
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == g.c_out), "conv2d: bias ",
           bias.defined() ? bias.shape() : Shape{}, " does not match ", g.c_out,
           " output channels");
  const TensorOptions options = ops::options_of(x);
  TG_CHECK(!bias.defined() || (bias.dtype() == x.dtype() && bias.device() == x.device()),
           "conv2d: bias of ", bias.defined() ? dtype_name(bias.dtype()) : "", " on ",
           bias.defined() ? bias.device().str() : "", " does not match the input (",
           dtype_name(x.dtype()), " on ", x.device().str(), ")");
  // The bias goes into the passes, unless it alone needs a gradient: then the broadcasting
  // add keeps that gradient differentiable again (Note [double backward]).
  const bool fused_bias = bias.defined() && (autograd::any_requires_grad({x, weight}) ||
                                             !autograd::any_requires_grad({bias}));
  const Tensor bc = fused_bias ? bias.detach().contiguous() : Tensor();
  const DType half = ops::autocast_operands(x, weight);
  const DType operands = half != DType::Float32 ? half : x.dtype();
  // The operands as the passes take them (half copies under autocast are fresh: contiguous).
  const Tensor xc = half != DType::Float32 ? ops::half_operand(x, half) : x.detach().contiguous();
  const Tensor wc =
      half != DType::Float32 ? ops::half_operand(weight, half) : weight.detach().contiguous();
  Tensor y = run(Pass::Forward, g, {g.n, g.c_out, g.out_h, g.out_w}, xc, wc, Tensor(), options,
                 operands, bc);
  std::vector<Tensor> inputs = {x, weight};
  if (fused_bias) inputs.push_back(bias);
  if (autograd::any_requires_grad(inputs)) {
    y = autograd::record(
        "Conv2dBackward", y, inputs,
        [g, options, operands, inputs_count = inputs.size(), need_x = x.requires_grad(),
         need_w = weight.requires_grad(), need_b = fused_bias && bias.requires_grad(),
         sx = weight.requires_grad() ? SavedTensor(xc) : SavedTensor(),
         sw = x.requires_grad() ? SavedTensor(wc) : SavedTensor()](const Tensor& grad) {
          const Tensor gc =
              is_half(operands) ? ops::half_operand(grad, operands) : grad.contiguous();
          std::vector<Tensor> grads(inputs_count);
          if (need_x) {
            grads[0] = run(Pass::BackwardData, g, {g.n, g.c_in, g.h, g.w}, Tensor(),
                           sw.get("Conv2dBackward"), gc, options, operands);
          }
          // The filter pass sums the bias's gradient from the gradient it reads; half
          // operands, or no filter pass, leave it to a sum of the float32 gradient.
          const bool bias_in_filter = need_b && need_w && !is_half(operands);
          if (need_w) {
            grads[1] = run(Pass::BackwardFilter, g, {g.c_out, g.c_in / g.groups, g.kh, g.kw},
                           sx.get("Conv2dBackward"), Tensor(), gc, options, operands, Tensor(),
                           bias_in_filter ? &grads[2] : nullptr);
          }
          if (need_b && !bias_in_filter) grads[2] = grad.sum({0, 2, 3});
          return grads;
        });
  }
  if (bias.defined() && !fused_bias) y = add(y, bias.view({1, g.c_out, 1, 1}));
  return y;
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride,
              ConvPadding padding, Size2 dilation, int64_t groups) {
  if (padding == ConvPadding::Valid) {
    return conv2d(x, weight, bias, stride, {0, 0}, dilation, groups);
  }
  TG_CHECK(stride[0] == 1 && stride[1] == 1,
           "conv2d: padding 'same' needs stride 1 (as in PyTorch), got stride (", stride[0], ", ",
           stride[1], ")");
  TG_CHECK(weight.dim() == 4, "conv2d: weight must be (C_out, C_in / groups, kh, kw), got ",
           weight.shape());
  // Total padding d·(k − 1) per axis. When it is odd, pad one more on both sides and drop
  // the first output row (column): the same as PyTorch's extra row at the bottom (right).
  const int64_t total_h = dilation[0] * (weight.size(2) - 1),
                total_w = dilation[1] * (weight.size(3) - 1);
  const int64_t extra_h = total_h % 2, extra_w = total_w % 2;
  Tensor y = conv2d(x, weight, bias, stride, {total_h / 2 + extra_h, total_w / 2 + extra_w},
                    dilation, groups);
  if (extra_h) y = y.slice(2, 1, y.size(2));
  if (extra_w) y = y.slice(3, 1, y.size(3));
  return y;
}

}  // namespace tg
