// Matrix products, differentiable: matmul of 2-D and batched 3-D operands (a 2-D operand
// broadcasts over the other's batch), and linear = x·Wᵀ + b.
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/core/tensor.h"

TG_API_BEGIN

namespace tg {

// (m, k)·(k, n) → (m, n);  (B, m, k)·(B, k, n), (B, m, k)·(k, n), (m, k)·(B, k, n) → (B, m, n).
// float32 products use TF32 on the GPU only when context(device).allow_tf32().
Tensor matmul(const Tensor& a, const Tensor& b);

// x (..., in), weight (out, in), bias (out) or undefined → (..., out).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace tg

TG_API_END
