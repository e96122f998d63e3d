// CPU launchers of the elementwise ops (kernels/elementwise.h). The op is a template
// parameter of each loop (the switch in unary_element / binary_element folds away, so the
// compiler can vectorise), and strided operands are walked as coalesced runs
// (Note [coalesced iteration]) with the common run shapes specialised: all contiguous, and
// one operand a scalar broadcast along the run (a bias over a batch, a per-channel term).
#include <type_traits>

#include "../elementwise.h"
#include "strided_loop.h"

namespace tg::kernels::cpu {

namespace {

template <UnaryOp Op>
using UnaryConstant = std::integral_constant<UnaryOp, Op>;
template <BinaryOp Op>
using BinaryConstant = std::integral_constant<BinaryOp, Op>;

// Calls f(std::integral_constant<UnaryOp, op>{}).
template <typename F>
void visit_unary_op(UnaryOp op, F&& f) {
  switch (op) {
    case UnaryOp::Neg: return f(UnaryConstant<UnaryOp::Neg>{});
    case UnaryOp::Exp: return f(UnaryConstant<UnaryOp::Exp>{});
    case UnaryOp::Log: return f(UnaryConstant<UnaryOp::Log>{});
    case UnaryOp::Sqrt: return f(UnaryConstant<UnaryOp::Sqrt>{});
    case UnaryOp::Abs: return f(UnaryConstant<UnaryOp::Abs>{});
    case UnaryOp::Sign: return f(UnaryConstant<UnaryOp::Sign>{});
    case UnaryOp::Relu: return f(UnaryConstant<UnaryOp::Relu>{});
    case UnaryOp::LeakyRelu: return f(UnaryConstant<UnaryOp::LeakyRelu>{});
    case UnaryOp::Sigmoid: return f(UnaryConstant<UnaryOp::Sigmoid>{});
    case UnaryOp::Tanh: return f(UnaryConstant<UnaryOp::Tanh>{});
    case UnaryOp::Gelu: return f(UnaryConstant<UnaryOp::Gelu>{});
    case UnaryOp::GeluTanh: return f(UnaryConstant<UnaryOp::GeluTanh>{});
    case UnaryOp::Softplus: return f(UnaryConstant<UnaryOp::Softplus>{});
    case UnaryOp::Pow: return f(UnaryConstant<UnaryOp::Pow>{});
    case UnaryOp::Clamp: return f(UnaryConstant<UnaryOp::Clamp>{});
    case UnaryOp::Elu: return f(UnaryConstant<UnaryOp::Elu>{});
  }
  TG_ASSERT(false, "unknown unary op ", static_cast<int>(op));
}

// Calls f(std::integral_constant<BinaryOp, op>{}).
template <typename F>
void visit_binary_op(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::Add: return f(BinaryConstant<BinaryOp::Add>{});
    case BinaryOp::Sub: return f(BinaryConstant<BinaryOp::Sub>{});
    case BinaryOp::Mul: return f(BinaryConstant<BinaryOp::Mul>{});
    case BinaryOp::Div: return f(BinaryConstant<BinaryOp::Div>{});
    case BinaryOp::Maximum: return f(BinaryConstant<BinaryOp::Maximum>{});
    case BinaryOp::Minimum: return f(BinaryConstant<BinaryOp::Minimum>{});
    case BinaryOp::Gt: return f(BinaryConstant<BinaryOp::Gt>{});
    case BinaryOp::Lt: return f(BinaryConstant<BinaryOp::Lt>{});
    case BinaryOp::Ge: return f(BinaryConstant<BinaryOp::Ge>{});
    case BinaryOp::Le: return f(BinaryConstant<BinaryOp::Le>{});
    case BinaryOp::Eq: return f(BinaryConstant<BinaryOp::Eq>{});
    case BinaryOp::Ne: return f(BinaryConstant<BinaryOp::Ne>{});
  }
  TG_ASSERT(false, "unknown binary op ", static_cast<int>(op));
}

// out[i·so] = a[i·sa] op b[i·sb] for i < count, the usual stride patterns as their own
// loops so each vectorises.
template <BinaryOp Op, typename T>
void binary_run(T* out, const T* a, const T* b, int64_t so, int64_t sa, int64_t sb, int64_t count) {
  if (so == 1 && sa == 1 && sb == 1) {
    for (int64_t i = 0; i < count; ++i) out[i] = binary_element(Op, a[i], b[i]);
  } else if (so == 1 && sa == 1 && sb == 0) {
    const T y = *b;
    for (int64_t i = 0; i < count; ++i) out[i] = binary_element(Op, a[i], y);
  } else if (so == 1 && sa == 0 && sb == 1) {
    const T x = *a;
    for (int64_t i = 0; i < count; ++i) out[i] = binary_element(Op, x, b[i]);
  } else {
    for (int64_t i = 0; i < count; ++i) out[i * so] = binary_element(Op, a[i * sa], b[i * sb]);
  }
}

// Contiguous elements [0, numel) split over the OpenMP threads; body(begin, end).
template <typename Body>
void parallel_range(int64_t numel, Body&& body) {
  if (numel <= kParallelAbove || omp_get_max_threads() == 1 || omp_in_parallel()) {
    body(int64_t{0}, numel);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    body(numel * t / threads, numel * (t + 1) / threads);
  }
}

}  // namespace

void unary(const UnaryArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(args.x);
    T* out = static_cast<T*>(args.out);
    const T a = static_cast<T>(args.a), b = static_cast<T>(args.b);
    visit_unary_op(args.op, [&](auto op) {
      parallel_range(args.numel, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          out[i] = unary_element(decltype(op)::value, x[i], a, b);
      });
    });
  });
}

void unary_backward(const UnaryArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(args.x);
    const T* grad = static_cast<const T*>(args.grad);
    T* out = static_cast<T*>(args.out);
    const T a = static_cast<T>(args.a), b = static_cast<T>(args.b);
    visit_unary_op(args.op, [&](auto op) {
      parallel_range(args.numel, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          out[i] = unary_backward_element(decltype(op)::value, x[i], grad[i], a, b);
        }
      });
    });
  });
}

void binary(const BinaryArgs& args) {
  const StridedLayout<3> layout =
      coalesce<3>(args.ndim, args.sizes, {args.out_strides, args.a.strides, args.b.strides});
  const int inner = layout.ndim - 1;
  const int64_t so = layout.strides[0][inner], sa = layout.strides[1][inner],
                sb = layout.strides[2][inner];
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* out = static_cast<T*>(args.out);
    const T* a = static_cast<const T*>(args.a.data);
    const T* b = static_cast<const T*>(args.b.data);
    visit_binary_op(args.op, [&](auto op) {
      for_each_run(layout, [&](const int64_t* at, int64_t count) {
        binary_run<decltype(op)::value>(out + at[0], a + at[1], b + at[2], so, sa, sb, count);
      });
    });
  });
}

void where(const WhereArgs& args) {
  int64_t out_strides[kMaxDims];
  int64_t stride = 1;  // out is contiguous
  for (int d = args.ndim - 1; d >= 0; --d) {
    out_strides[d] = stride;
    stride *= args.sizes[d];
  }
  const StridedLayout<4> layout = coalesce<4>(
      args.ndim, args.sizes, {out_strides, args.cond.strides, args.a.strides, args.b.strides});
  const int inner = layout.ndim - 1;
  const int64_t sc = layout.strides[1][inner], sa = layout.strides[2][inner],
                sb = layout.strides[3][inner];
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto* cond = static_cast<const uint8_t*>(args.cond.data);
    const T* a = static_cast<const T*>(args.a.data);
    const T* b = static_cast<const T*>(args.b.data);
    T* out = static_cast<T*>(args.out);
    for_each_run(layout, [&](const int64_t* at, int64_t count) {
      const uint8_t* c = cond + at[1];
      const T* x = a + at[2];
      const T* y = b + at[3];
      T* o = out + at[0];
      for (int64_t i = 0; i < count; ++i) o[i] = c[i * sc] != 0 ? x[i * sa] : y[i * sb];
    });
  });
}

}  // namespace tg::kernels::cpu
