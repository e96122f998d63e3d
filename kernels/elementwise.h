// Elementwise ops: unary maps (with their derivatives), binary ops with NumPy
// broadcasting, and where(cond, a, b). Float32 and float64.
//
// The per-element math is here once, as TG_HOST_DEVICE functions both launchers call;
// the launchers differ only in how they walk the elements.
//
// Front-end: core/ops/elementwise.cpp. Tests: the op table, tests/ops/op_cases_math.cpp
//   (gradcheck: tests/ops/gradcheck_test.cpp; CUDA vs CPU:
//   tests/cuda/op_parity_test.cpp)
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "common.h"

namespace tg::kernels {

// float overloads on the host as on the device.
using std::erf;
using std::exp;
using std::fabs;
using std::log;
using std::log1p;
using std::pow;
using std::sqrt;
using std::tanh;

// The relu op's rule (fused ReLUs use it too: batch norm's, dropout's): v > 0 keeps v, a NaN
// stays (NaN <= 0 is false), anything else is +0. One select, which loops vectorise.
template <typename T>
TG_HOST_DEVICE T relu_element(T v) {
  return v <= T(0) ? T(0) : v;
}

enum class UnaryOp : uint8_t {
  Neg,
  Exp,
  Log,
  Sqrt,
  Abs,
  Sign,
  Relu,
  LeakyRelu,  // a = negative slope
  Sigmoid,
  Tanh,
  Gelu,      // exact: x·Φ(x)
  GeluTanh,  // PyTorch's approximate='tanh': 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  Softplus,  // log(1 + e^x), linear above x = 20 as in PyTorch
  Pow,       // x^a
  Clamp,     // min(max(x, a), b)
  Elu,       // b·(x > 0 ? x : a·(e^x − 1)): ELU (a = alpha, b = 1) and SELU's constants
};

// f(x) for one element; a and b are the op's parameters (see UnaryOp).
template <typename T>
TG_HOST_DEVICE T unary_element(UnaryOp op, T x, T a, T b) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return exp(x);
    case UnaryOp::Log: return log(x);
    case UnaryOp::Sqrt: return sqrt(x);
    case UnaryOp::Abs: return fabs(x);
    case UnaryOp::Sign: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : (x == x ? T(0) : x));
    case UnaryOp::Relu: return relu_element(x);
    case UnaryOp::LeakyRelu: return x > T(0) ? x : a * x;
    case UnaryOp::Sigmoid: return T(1) / (T(1) + exp(-x));
    case UnaryOp::Tanh: return tanh(x);
    case UnaryOp::Gelu: return T(0.5) * x * (T(1) + erf(x * T(0.70710678118654752440)));
    case UnaryOp::GeluTanh:
      return T(0.5) * x * (T(1) + tanh(T(0.79788456080286535588) * (x + T(0.044715) * x * x * x)));
    case UnaryOp::Softplus: return x > T(20) ? x : log1p(exp(x));
    case UnaryOp::Pow: return pow(x, a);
    case UnaryOp::Clamp: return x < a ? a : (x > b ? b : x);
    case UnaryOp::Elu: return x > T(0) ? b * x : b * a * (exp(x) - T(1));
  }
  return x;
}

// dL/dx = dL/dy · f'(x) for one element.
template <typename T>
TG_HOST_DEVICE T unary_backward_element(UnaryOp op, T x, T grad, T a, T b) {
  switch (op) {
    case UnaryOp::Neg: return -grad;
    case UnaryOp::Exp: return grad * exp(x);
    case UnaryOp::Log: return grad / x;
    case UnaryOp::Sqrt: return grad / (T(2) * sqrt(x));
    case UnaryOp::Abs: return x > T(0) ? grad : (x < T(0) ? -grad : T(0));
    case UnaryOp::Sign: return T(0);
    case UnaryOp::Relu: return x > T(0) ? grad : T(0);
    case UnaryOp::LeakyRelu: return x > T(0) ? grad : a * grad;
    case UnaryOp::Sigmoid: {
      const T s = T(1) / (T(1) + exp(-x));
      return grad * s * (T(1) - s);
    }
    case UnaryOp::Tanh: {
      const T t = tanh(x);
      return grad * (T(1) - t * t);
    }
    case UnaryOp::GeluTanh: {
      // u = √(2/π)(x + c·x³), y = ½x(1 + tanh u): y' = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3c·x²)
      const T k = T(0.79788456080286535588), c = T(0.044715);
      const T t = tanh(k * (x + c * x * x * x));
      return grad *
             (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * c * x * x));
    }
    case UnaryOp::Gelu: {
      const T cdf = T(0.5) * (T(1) + erf(x * T(0.70710678118654752440)));
      const T pdf = exp(T(-0.5) * x * x) * T(0.39894228040143267794);
      return grad * (cdf + x * pdf);
    }
    case UnaryOp::Softplus: return x > T(20) ? grad : grad / (T(1) + exp(-x));
    case UnaryOp::Pow: return a == T(0) ? T(0) : grad * a * pow(x, a - T(1));
    case UnaryOp::Clamp: return (x >= a && x <= b) ? grad : T(0);
    case UnaryOp::Elu: return x > T(0) ? b * grad : b * a * exp(x) * grad;
  }
  return grad;
}

struct UnaryArgs {
  UnaryOp op;
  DType dtype;
  int64_t numel;
  const void* x;     // (numel,) contiguous
  const void* grad;  // (numel,) contiguous: backward only, else null
  void* out;         // (numel,) contiguous
  double a, b;
};

enum class BinaryOp : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Maximum,
  Minimum,
  Gt,
  Lt,
  Ge,
  Le,
  Eq,  // 1 where true, else 0, in the inputs' dtype
  Ne,
};

// Binary ops run on every dtype; the front-end keeps Div to floating point (an integer
// division by zero has no defined result). Integer arithmetic wraps (uint8 keeps the low
// 8 bits), as PyTorch's does.
template <typename T>
TG_HOST_DEVICE bool is_nan_element(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return x != x;
  } else {
    return false;
  }
}

// Integer +, -, × in unsigned 64-bit arithmetic, so overflow wraps instead of being
// undefined.
template <typename T>
TG_HOST_DEVICE T wrapping(BinaryOp op, T a, T b) {
  const uint64_t x = static_cast<uint64_t>(a), y = static_cast<uint64_t>(b);
  return static_cast<T>(op == BinaryOp::Add ? x + y : op == BinaryOp::Sub ? x - y : x * y);
}

template <typename T>
TG_HOST_DEVICE T binary_element(BinaryOp op, T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    if (op == BinaryOp::Add || op == BinaryOp::Sub || op == BinaryOp::Mul) {
      return wrapping(op, a, b);
    }
  }
  switch (op) {
    case BinaryOp::Add: return T(a + b);
    case BinaryOp::Sub: return T(a - b);
    case BinaryOp::Mul: return T(a * b);
    case BinaryOp::Div: return T(a / b);
    // NaN wins, as in torch.maximum / torch.minimum.
    case BinaryOp::Maximum:
      return is_nan_element(a) ? a : (is_nan_element(b) ? b : (a > b ? a : b));
    case BinaryOp::Minimum:
      return is_nan_element(a) ? a : (is_nan_element(b) ? b : (a < b ? a : b));
    case BinaryOp::Gt: return a > b ? T(1) : T(0);
    case BinaryOp::Lt: return a < b ? T(1) : T(0);
    case BinaryOp::Ge: return a >= b ? T(1) : T(0);
    case BinaryOp::Le: return a <= b ? T(1) : T(0);
    case BinaryOp::Eq: return a == b ? T(1) : T(0);
    case BinaryOp::Ne: return a != b ? T(1) : T(0);
  }
  return a;
}

// Up to three operands walked over one output shape; a stride of 0 broadcasts.
struct StridedOperand {
  const void* data;
  int64_t strides[kMaxDims];  // elements
};

struct BinaryArgs {
  BinaryOp op;
  DType dtype;
  int64_t numel;
  int ndim;
  int64_t sizes[kMaxDims];  // the output's shape
  void* out;
  int64_t out_strides[kMaxDims];  // may alias a exactly (in-place a op= b)
  StridedOperand a, b;
};

// out = cond ? a : b, cond of uint8 (non-zero is true), a/b/out of dtype.
struct WhereArgs {
  DType dtype;
  int64_t numel;
  int ndim;
  int64_t sizes[kMaxDims];
  void* out;  // contiguous
  StridedOperand cond, a, b;
};

namespace cpu {
void unary(const UnaryArgs& args);
void unary_backward(const UnaryArgs& args);
void binary(const BinaryArgs& args);
void where(const WhereArgs& args);
}  // namespace cpu
namespace cuda {
void unary(const UnaryArgs& args, void* stream);
void unary_backward(const UnaryArgs& args, void* stream);
void binary(const BinaryArgs& args, void* stream);
void where(const WhereArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
