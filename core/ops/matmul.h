// Matrix products, differentiable: matmul with PyTorch's rules (vectors, batch dims that
// broadcast), and linear = x·Wᵀ + b.
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

// (m, k)·(k, n) → (m, n); (k)·(k) → (); (k)·(..., k, n) → (..., n); (..., m, k)·(k) → (..., m);
// (..., m, k)·(..., k, n) → (broadcast(...), m, n), e.g. (1, m, k)·(3, k, n) → (3, m, n)
// (Note [matmul rules] in core/ops/matmul.cpp). float32 products use TF32 on the GPU only
// when context(device).allow_tf32().
Tensor matmul(const Tensor& a, const Tensor& b);

// x (..., in), weight (out, in), bias (out) or undefined → (..., out).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace tg

TG_API_END
