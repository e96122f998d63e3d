// Batch normalisation as a differentiable op (layers hold the running statistics as
// buffers and the training flag).
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

// x: (N, C) or (N, C, H, W). gamma/beta: (C,) or undefined. running_mean/var: (C,)
// buffers, updated in place in training (may be undefined there), required in eval.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& gamma, const Tensor& beta, bool training, double momentum = 0.1,
                  double eps = 1e-5);

// relu(batch_norm(...)) as one op (Note [batch norm + relu], kernels/batch_norm.h): the same
// values and gradients as the two ops, without the intermediate tensor and its extra passes.
Tensor batch_norm_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& gamma, const Tensor& beta, bool training,
                       double momentum = 0.1, double eps = 1e-5);

// max_pool2d(batch_norm_relu(...), {2, 2}) of an (N, C, H, W) input: on the CPU one op that
// never stores the unpooled output (Note [batch norm + relu + pool], kernels/batch_norm.h),
// elsewhere the two ops; the same values and gradients either way.
Tensor batch_norm_relu_max_pool2d(const Tensor& x, const Tensor& running_mean,
                                  const Tensor& running_var, const Tensor& gamma,
                                  const Tensor& beta, bool training, double momentum = 0.1,
                                  double eps = 1e-5);

// batch_norm_relu_max_pool2d(conv2d(x, weight, bias, stride, padding, dilation), ...): on the
// CPU, for float32, one op that keeps the convolution's output and its gradient in oneDNN's
// blocked layout between the two (Note [conv block], kernels/batch_norm.h), elsewhere the ops
// apart; the same values and gradients either way.
Tensor conv2d_batch_norm_relu_max_pool2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                         Size2 stride, Size2 padding, Size2 dilation,
                                         const Tensor& running_mean, const Tensor& running_var,
                                         const Tensor& gamma, const Tensor& beta, bool training,
                                         double momentum = 0.1, double eps = 1e-5);

}  // namespace tg

TG_API_END
