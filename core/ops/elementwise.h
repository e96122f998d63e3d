// Elementwise ops, differentiable, on float32 and float64 tensors of one device.
// Binary ops broadcast as NumPy does; scalar variants broadcast a 0-d tensor. Operands of
// different dtypes are promoted as PyTorch does (Note [type promotion], op_support.h):
// int64 + float32 is float32, float32 + float64 float64 (the gradient flows back converted
// to each operand's dtype), int64 / int64 a float32 true division.
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // ties split the gradient evenly
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);

// Comparisons: 1 where true, else 0, in the operands' result type; not differentiable.
// These, add, sub, mul, maximum and minimum also take int64 and uint8 tensors (integer
// arithmetic wraps); the unary ops are floating-point only.
Tensor gt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);

// cond ? a : b, broadcasting all three; cond is uint8, or any tensor compared with 0.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor clamp(const Tensor& x, double min, double max);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
// ELU (Clevert et al. 2016): x for x > 0, alpha·(e^x − 1) below; and SELU (Klambauer et al.
// 2017), scale·elu(x, alpha) with the self-normalising constants alpha = 1.6732632…,
// scale = 1.0507009…, as PyTorch's F.elu and F.selu.
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor selu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// approximate: GeluApproximation::None is x·Φ(x) (exact), Tanh PyTorch's tanh form.
enum class GeluApproximation { None, Tanh };
Tensor gelu(const Tensor& x, GeluApproximation approximate = GeluApproximation::None);
Tensor softplus(const Tensor& x);

// In place, not recorded by autograd: dst += src (src broadcast to dst's shape).
Tensor& add_(Tensor& dst, const Tensor& src);

// Arithmetic operators, with broadcasting; a scalar on either side acts as a 0-d tensor of
// the other operand's dtype and device.
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, double b) { return div(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
Tensor operator-(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);

}  // namespace tg

TG_API_END
