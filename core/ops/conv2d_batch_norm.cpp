// Front-end of conv2d_batch_norm_relu_max_pool2d (core/ops/batch_norm.h): the conv block of
// Note [conv block] (kernels/batch_norm.h) where the CPU can run it, the ops apart elsewhere.
#include <array>

#include "../../kernels/batch_norm.h"
#include "../../kernels/conv2d.h"
#include "batch_norm.h"
#include "conv2d.h"
#include "conv2d_support.h"
#include "op_support.h"

namespace tg {

using autograd::SavedTensor;

namespace {

// A float32 (C,) vector on the CPU, contiguous, or undefined.
bool plain_channel_vector(const Tensor& t, int64_t channels) {
  return !t.defined() || (t.dim() == 1 && t.size(0) == channels && t.dtype() == DType::Float32 &&
                          t.device().is_cpu() && t.is_contiguous());
}

// Whether the block takes the call whose geometry `args` has: the CPU, float32 without
// autocast, operands the ops apart would take without a word, and oneDNN taking the geometry
// blocked. Anything else runs the ops apart, which also say what is wrong with a bad call.
bool block_takes(const Tensor& x, const Tensor& weight, const Tensor& bias,
                 const Tensor& running_mean, const Tensor& running_var, const Tensor& gamma,
                 const Tensor& beta, bool training, double momentum, double eps,
                 kernels::Conv2dArgs* args) {
  if (!x.device().is_cpu() || !weight.device().is_cpu() || x.dtype() != DType::Float32 ||
      weight.dtype() != DType::Float32 || ops::autocast_operands(x, weight) != DType::Float32) {
    return false;
  }
  const int64_t channels = weight.size(0);
  if (!plain_channel_vector(bias, channels) || !plain_channel_vector(running_mean, channels) ||
      !plain_channel_vector(running_var, channels) || !plain_channel_vector(gamma, channels) ||
      !plain_channel_vector(beta, channels) || running_mean.defined() != running_var.defined() ||
      (!training && !running_mean.defined()) || !(eps > 0 && momentum >= 0 && momentum <= 1)) {
    return false;
  }
  // The bias's gradient comes from the filter pass (Note [conv2d bias]).
  if (bias.defined() && bias.requires_grad() && !weight.requires_grad()) return false;
  return args->g.out_h >= 2 && args->g.out_w >= 2 &&
         (!training || args->g.n * args->g.out_h * args->g.out_w > 1) &&
         kernels::cpu::conv2d_blocked_takes(*args);
}

}  // namespace

TG_REGISTER_OP("conv2d_batch_norm_relu_max_pool2d");
Tensor conv2d_batch_norm_relu_max_pool2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                         Size2 stride, Size2 padding, Size2 dilation,
                                         const Tensor& running_mean, const Tensor& running_var,
                                         const Tensor& gamma, const Tensor& beta, bool training,
                                         double momentum, double eps) {
  const auto apart = [&] {
    return batch_norm_relu_max_pool2d(conv2d(x, weight, bias, stride, padding, dilation),
                                      running_mean, running_var, gamma, beta, training, momentum,
                                      eps);
  };
  if (!x.device().is_cpu() || x.dim() != 4 || weight.dim() != 4) return apart();
  kernels::Conv2dArgs conv{
      DType::Float32, ops::conv2d_geometry(x, weight, stride, padding, dilation, 1),
      nullptr,        nullptr,
      nullptr,        nullptr,
      false};
  conv.blocked = true;
  conv.bias = bias.defined() ? bias.raw_data_ptr() : nullptr;  // only whether there is one yet
  if (!block_takes(x, weight, bias, running_mean, running_var, gamma, beta, training, momentum, eps,
                   &conv)) {
    return apart();
  }
  const kernels::Conv2dGeometry g = conv.g;
  const TensorOptions options = ops::options_of(x);
  Tensor xc = x.detach().contiguous();
  const Tensor wc = weight.detach().contiguous();
  const Tensor bc = bias.defined() ? bias.detach() : Tensor();
  // y, the convolution's output, in nChw16c: seen by nothing but this op.
  const Tensor y = empty({g.n * g.c_out * g.out_h * g.out_w}, options);
  conv.x = xc.raw_data_ptr();
  if (g.c_in % 16 == 0) {  // x in nChw16c as the forward wants it, and kept so for the filter's
    const Tensor blocked = empty({xc.numel()}, options);
    kernels::cpu::conv2d_blocked_input(conv, blocked.raw_data_ptr());
    xc = blocked;
    conv.x = xc.raw_data_ptr();
    conv.x_blocked = true;
  }
  conv.weight = wc.raw_data_ptr();
  conv.out = y.raw_data_ptr();
  conv.bias = bc.defined() ? bc.raw_data_ptr() : nullptr;
  kernels::cpu::conv2d_forward(conv);

  const kernels::BatchNormShape shape{g.n, g.c_out, g.out_h * g.out_w};
  Tensor pooled = empty({g.n, g.c_out, g.out_h / 2, g.out_w / 2}, options);
  const Tensor mean = empty({g.c_out}, options), invstd = empty({g.c_out}, options);
  const Tensor codes = empty({pooled.numel()}, options.dtype(DType::UInt8));
  {
    NoGradGuard no_grad;  // the running statistics are buffers, written in place
    kernels::BatchNormForwardArgs norm{
        DType::Float32,
        shape,
        y.raw_data_ptr(),
        gamma.defined() ? gamma.raw_data_ptr() : nullptr,
        beta.defined() ? beta.raw_data_ptr() : nullptr,
        nullptr,
        training,
        running_mean.defined() ? running_mean.raw_data_ptr() : nullptr,
        running_var.defined() ? running_var.raw_data_ptr() : nullptr,
        mean.raw_data_ptr(),
        invstd.raw_data_ptr(),
        momentum,
        eps,
        true};
    norm.pooled = pooled.raw_data_ptr();
    norm.height = g.out_h;
    norm.width = g.out_w;
    norm.blocked = true;
    norm.window_codes = static_cast<uint8_t*>(codes.raw_data_ptr());
    kernels::cpu::batchnorm_forward(norm);
    if (training && running_mean.defined()) {
      running_mean.bump_version();
      running_var.bump_version();
    }
  }
  const std::vector<Tensor> inputs = {x, weight, bias, gamma, beta};
  if (!autograd::any_requires_grad(inputs)) return pooled;
  const char* node = "Conv2dBatchNormReluMaxPool2dBackward";
  return autograd::record(
      node, pooled, inputs,
      [node, g, shape, training, options, y, mean, invstd, codes, x_blocked = conv.x_blocked,
       sx = weight.requires_grad() ? SavedTensor(xc) : SavedTensor(),
       sw = x.requires_grad() ? SavedTensor(wc) : SavedTensor(), sg = SavedTensor(gamma),
       sb = SavedTensor(beta),
       need = std::array<bool, 5>{x.requires_grad(), weight.requires_grad(),
                                  bias.defined() && bias.requires_grad(),
                                  gamma.defined() && gamma.requires_grad(),
                                  beta.defined() && beta.requires_grad()}](const Tensor& grad) {
        const Tensor gc = grad.contiguous();
        const Tensor& gamma = sg.get(node);
        const Tensor& beta = sb.get(node);
        std::vector<Tensor> grads(5);
        // The convolution's output gradient (blocked like y) is made a block of the batch at a
        // time, in the passes' own buffer (Note [conv block]).
        const bool conv_grads = need[0] || need[1];
        if (need[3]) grads[3] = empty({shape.c}, options);
        if (need[4]) grads[4] = empty({shape.c}, options);
        kernels::BatchNormBackwardArgs norm{DType::Float32,
                                            shape,
                                            y.raw_data_ptr(),
                                            nullptr,
                                            gamma.defined() ? gamma.raw_data_ptr() : nullptr,
                                            mean.raw_data_ptr(),
                                            invstd.raw_data_ptr(),
                                            training,
                                            nullptr,  // grad_x: a block at a time, below
                                            need[3] ? grads[3].raw_data_ptr() : nullptr,
                                            need[4] ? grads[4].raw_data_ptr() : nullptr,
                                            true,
                                            beta.defined() ? beta.raw_data_ptr() : nullptr};
        norm.pooled_grad = gc.raw_data_ptr();
        norm.height = g.out_h;
        norm.width = g.out_w;
        norm.blocked = true;
        norm.window_codes = static_cast<const uint8_t*>(codes.raw_data_ptr());
        // The channels' terms first; then each block of the batch writes its part of the
        // convolution's output gradient where the data and filter passes read it.
        std::vector<float> terms(conv_grads ? 3 * shape.c : 0);
        norm.terms = conv_grads ? terms.data() : nullptr;
        kernels::cpu::batchnorm_backward(norm);
        if (!conv_grads) return grads;
        kernels::Conv2dArgs data{DType::Float32, g, nullptr, nullptr, nullptr, nullptr, false};
        data.blocked = true;
        kernels::Conv2dArgs filter = data;
        if (need[0]) {
          grads[0] = empty({g.n, g.c_in, g.h, g.w}, options);
          data.weight = sw.get(node).raw_data_ptr();
          data.out = grads[0].raw_data_ptr();
        }
        if (need[1]) {
          grads[1] = empty({g.c_out, g.c_in, g.kh, g.kw}, options);
          if (need[2]) grads[2] = empty({g.c_out}, options);
          filter.x = sx.get(node).raw_data_ptr();
          filter.x_blocked = x_blocked;
          filter.out = grads[1].raw_data_ptr();
          filter.grad_bias = need[2] ? grads[2].raw_data_ptr() : nullptr;
        }
        kernels::cpu::conv2d_backward_blocks(need[0] ? &data : nullptr, need[1] ? &filter : nullptr,
                                             [&](int64_t first, int64_t count, void* grad_out) {
                                               kernels::cpu::batchnorm_backward_samples(
                                                   norm, first, first + count, grad_out);
                                             });
        return grads;
      });
}

}  // namespace tg
