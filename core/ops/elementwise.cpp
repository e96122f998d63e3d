// Front-ends of the elementwise ops: checks, broadcasting, dispatch, autograd.
// Binary backward passes are compositions of forward ops, reduced back to each input's
// shape with sum_to.
#include "elementwise.h"

#include "../../kernels/elementwise.h"
#include "op_support.h"
#include "reduce.h"

namespace tg {

using autograd::SavedTensor;
using autograd::sum_to;
using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

// Runs a binary kernel: out (contiguous unless given) = a op b over the broadcast shape.
// out = a op b elementwise over `shape` (out may be a itself: in-place accumulation).
void run_binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b,
                const Shape& shape) {
  kernels::BinaryArgs args{};
  args.op = op;
  args.dtype = out.dtype();
  args.numel = out.numel();
  ops::copy_shape(shape, &args.ndim, args.sizes);
  args.out = out.raw_data_ptr();
  ops::broadcast_strides(out, shape, args.out_strides);
  args.a.data = a.raw_data_ptr();
  ops::broadcast_strides(a, shape, args.a.strides);
  args.b.data = b.raw_data_ptr();
  ops::broadcast_strides(b, shape, args.b.strides);
  TG_ON_DEVICE(out.device(), kernels::cpu::binary(args), stream,
               kernels::cuda::binary(args, stream));
}

// A new tensor a op b over the broadcast shape. Every op but div also takes integer
// tensors (labels compared with predictions, counts added).
Tensor launch_binary(const char* op_name, BinaryOp op, const Tensor& a, const Tensor& b) {
  if (op == BinaryOp::Div) {
    ops::check_float_pair(op_name, a, b);
  } else {
    ops::check_pair(op_name, a, b);
  }
  const Shape shape = ops::broadcast_shapes(op_name, a.shape(), b.shape());
  Tensor out = empty(shape, ops::options_of(a));
  run_binary(op, out, a, b, shape);
  return out;
}

Tensor launch_unary(const char* op_name, UnaryOp op, const Tensor& x, double a = 0, double b = 0) {
  ops::check_float(op_name, x);
  const Tensor input = x.detach().contiguous();
  Tensor out = empty(x.shape(), ops::options_of(x));
  const kernels::UnaryArgs args{op,      x.dtype(),          x.numel(), input.raw_data_ptr(),
                                nullptr, out.raw_data_ptr(), a,         b};
  TG_ON_DEVICE(out.device(), kernels::cpu::unary(args), stream, kernels::cuda::unary(args, stream));
  return out;
}

// grad · f'(x) through the unary backward kernel.
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& grad, double a, double b) {
  const Tensor input = x.contiguous();
  const Tensor g = grad.contiguous();
  Tensor out = empty(x.shape(), ops::options_of(x));
  const kernels::UnaryArgs args{
      op, x.dtype(), x.numel(), input.raw_data_ptr(), g.raw_data_ptr(), out.raw_data_ptr(), a, b};
  TG_ON_DEVICE(out.device(), kernels::cpu::unary_backward(args), stream,
               kernels::cuda::unary_backward(args, stream));
  return out;
}

Tensor unary_op(const char* name, const char* node, UnaryOp op, const Tensor& x, double a = 0,
                double b = 0);

// grad · f'(x) composed of recorded ops, for a backward run with grad mode on (Note [double
// backward] in core/autograd.h); undefined for an op without one (gelu).
Tensor composed_derivative(UnaryOp op, const Tensor& x, const Tensor& g, double a, double b) {
  // Comparisons give 1 or 0 in x's dtype and are not recorded: constants of the graph.
  const Tensor zero = ops::scalar_like(0.0, x);
  switch (op) {
    case UnaryOp::Neg: return neg(g);
    case UnaryOp::Exp: return mul(g, exp(x));
    case UnaryOp::Log: return div(g, x);
    case UnaryOp::Sqrt: return div(g, mul(sqrt(x), 2.0));
    case UnaryOp::Abs: return mul(g, sign(x));
    case UnaryOp::Sign: return mul(g, 0.0);
    case UnaryOp::Pow: return mul(g, mul(pow(x, a - 1), a));
    case UnaryOp::Clamp:
      return mul(g, mul(ge(x, ops::scalar_like(a, x)), le(x, ops::scalar_like(b, x))));
    case UnaryOp::Relu: return mul(g, gt(x, zero));
    case UnaryOp::LeakyRelu: return where(gt(x, zero), g, mul(g, a));
    case UnaryOp::Elu:  // b·(x > 0 ? 1 : a·e^x)
      return where(gt(x, zero), mul(g, b), mul(g, mul(exp(x), a * b)));
    case UnaryOp::Sigmoid: {
      const Tensor s = sigmoid(x);
      return mul(g, mul(s, 1.0 - s));
    }
    case UnaryOp::Tanh: {
      const Tensor t = tanh(x);
      return mul(g, 1.0 - mul(t, t));
    }
    case UnaryOp::Softplus: return mul(g, sigmoid(x));
    default: return Tensor();
  }
}

// A differentiable unary op: the kernel forward, the derivative kernel backward (or, under
// grad mode, the composed derivative).
Tensor unary_op(const char* name, const char* node, UnaryOp op, const Tensor& x, double a,
                double b) {
  Tensor out = launch_unary(name, op, x, a, b);
  if (!autograd::any_requires_grad({x})) return out;
  auto fn = [saved = SavedTensor(x), op, a, b, node](const Tensor& g) {
    const Tensor& x = saved.get(node);
    if (grad_mode_enabled()) {
      const Tensor composed = composed_derivative(op, x, g, a, b);
      if (composed.defined()) return std::vector<Tensor>{composed};
    }
    return std::vector<Tensor>{unary_backward(op, x, g, a, b)};
  };
  const bool composed = op != UnaryOp::Gelu && op != UnaryOp::GeluTanh;
  return composed ? autograd::record_composed(node, out, {x}, fn)
                  : autograd::record(node, out, {x}, fn);
}

}  // namespace

TG_REGISTER_OP("add");
Tensor add(const Tensor& a, const Tensor& b) {
  if (const ops::Promoted p = ops::promote("add", a, b)) return add(p.a, p.b);
  Tensor out = launch_binary("add", BinaryOp::Add, a, b);
  return autograd::record_composed("AddBackward", out, {a, b},
                                   [sa = a.shape(), sb = b.shape()](const Tensor& g) {
                                     return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
                                   });
}

TG_REGISTER_OP("sub");
Tensor sub(const Tensor& a, const Tensor& b) {
  if (const ops::Promoted p = ops::promote("sub", a, b)) return sub(p.a, p.b);
  Tensor out = launch_binary("sub", BinaryOp::Sub, a, b);
  return autograd::record_composed("SubBackward", out, {a, b},
                                   [sa = a.shape(), sb = b.shape()](const Tensor& g) {
                                     return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
                                   });
}

TG_REGISTER_OP("mul");
Tensor mul(const Tensor& a, const Tensor& b) {
  if (const ops::Promoted p = ops::promote("mul", a, b)) return mul(p.a, p.b);
  Tensor out = launch_binary("mul", BinaryOp::Mul, a, b);
  if (!autograd::any_requires_grad({a, b})) return out;
  return autograd::record_composed(
      "MulBackward", out, {a, b}, [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g) {
        const Tensor& a = sa.get("MulBackward");
        const Tensor& b = sb.get("MulBackward");
        return std::vector<Tensor>{sum_to(mul(g, b), a.shape()), sum_to(mul(g, a), b.shape())};
      });
}

TG_REGISTER_OP("div");
Tensor div(const Tensor& a, const Tensor& b) {
  if (const ops::Promoted p = ops::promote("div", a, b, /*floating=*/true)) return div(p.a, p.b);
  Tensor out = launch_binary("div", BinaryOp::Div, a, b);
  if (!autograd::any_requires_grad({a, b})) return out;
  return autograd::record_composed(
      "DivBackward", out, {a, b}, [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g) {
        const Tensor& a = sa.get("DivBackward");
        const Tensor& b = sb.get("DivBackward");
        const Tensor grad_a = div(g, b);
        return std::vector<Tensor>{sum_to(grad_a, a.shape()),
                                   sum_to(neg(mul(grad_a, div(a, b))), b.shape())};
      });
}

namespace {
// maximum/minimum: the gradient goes to the winner; a tie splits it in half.
Tensor extremum(const char* name, const char* node, BinaryOp op, BinaryOp wins, const Tensor& a,
                const Tensor& b) {
  Tensor out = launch_binary(name, op, a, b);
  if (!autograd::any_requires_grad({a, b})) return out;
  return autograd::record_composed(
      node, out, {a, b}, [sa = SavedTensor(a), sb = SavedTensor(b), wins, node](const Tensor& g) {
        const Tensor& a = sa.get(node);
        const Tensor& b = sb.get(node);
        const Tensor share_a = add(launch_binary("mask", wins, a, b),
                                   mul(launch_binary("mask", BinaryOp::Eq, a, b), 0.5));
        const Tensor grad_a = mul(g, share_a);
        return std::vector<Tensor>{sum_to(grad_a, a.shape()), sum_to(sub(g, grad_a), b.shape())};
      });
}
}  // namespace

TG_REGISTER_OP("maximum");
Tensor maximum(const Tensor& a, const Tensor& b) {
  if (const ops::Promoted p = ops::promote("maximum", a, b)) return maximum(p.a, p.b);
  return extremum("maximum", "MaximumBackward", BinaryOp::Maximum, BinaryOp::Gt, a, b);
}
TG_REGISTER_OP("minimum");
Tensor minimum(const Tensor& a, const Tensor& b) {
  if (const ops::Promoted p = ops::promote("minimum", a, b)) return minimum(p.a, p.b);
  return extremum("minimum", "MinimumBackward", BinaryOp::Minimum, BinaryOp::Lt, a, b);
}

Tensor add(const Tensor& a, double b) { return add(a, ops::scalar_operand(b, a)); }
Tensor sub(const Tensor& a, double b) { return sub(a, ops::scalar_operand(b, a)); }
Tensor mul(const Tensor& a, double b) { return mul(a, ops::scalar_operand(b, a)); }
Tensor div(const Tensor& a, double b) { return div(a, ops::scalar_operand(b, a)); }

namespace {
// A comparison in the operands' result type (Note [type promotion]), never recorded.
Tensor compare(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  if (const ops::Promoted p = ops::promote(name, a, b)) {
    return launch_binary(name, op, p.a.detach(), p.b.detach());
  }
  return launch_binary(name, op, a, b);
}
}  // namespace

Tensor gt(const Tensor& a, const Tensor& b) { return compare("gt", BinaryOp::Gt, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare("lt", BinaryOp::Lt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare("ge", BinaryOp::Ge, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare("le", BinaryOp::Le, a, b); }
Tensor eq(const Tensor& a, const Tensor& b) { return compare("eq", BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare("ne", BinaryOp::Ne, a, b); }

namespace {
// x != 0, as a uint8 mask.
Tensor ne_zero_mask(const Tensor& x) {
  // 1 - (x == 0), as uint8.
  const Tensor is_zero = eq(x.detach(), ops::scalar_like(0.0, x));
  return sub(ops::scalar_like(1.0, x), is_zero).to(DType::UInt8);
}
}  // namespace

TG_REGISTER_OP("where");
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  if (const ops::Promoted p = ops::promote("where", a, b)) return where(cond, p.a, p.b);
  ops::check_float_pair("where", a, b);
  TG_CHECK(cond.defined() && cond.device() == a.device(), "where: condition on ",
           cond.defined() ? cond.device().str() : "nothing", " but values on ", a.device());
  const Tensor mask = cond.dtype() == DType::UInt8 ? cond.detach()
                      : is_floating(cond.dtype())  ? ne_zero_mask(cond)
                                                   : cond.detach().to(DType::UInt8);
  const Shape shape = ops::broadcast_shapes(
      "where", ops::broadcast_shapes("where", mask.shape(), a.shape()), b.shape());
  Tensor out = empty(shape, ops::options_of(a));
  kernels::WhereArgs args{};
  args.dtype = a.dtype();
  args.numel = out.numel();
  ops::copy_shape(shape, &args.ndim, args.sizes);
  args.out = out.raw_data_ptr();
  args.cond.data = mask.raw_data_ptr();
  ops::broadcast_strides(mask, shape, args.cond.strides);
  args.a.data = a.raw_data_ptr();
  ops::broadcast_strides(a, shape, args.a.strides);
  args.b.data = b.raw_data_ptr();
  ops::broadcast_strides(b, shape, args.b.strides);
  TG_ON_DEVICE(out.device(), kernels::cpu::where(args), stream, kernels::cuda::where(args, stream));
  return autograd::record_composed("WhereBackward", out, {a, b},
                                   [mask, sa = a.shape(), sb = b.shape()](const Tensor& g) {
                                     const Tensor zero = ops::scalar_like(0.0, g);
                                     return std::vector<Tensor>{sum_to(where(mask, g, zero), sa),
                                                                sum_to(where(mask, zero, g), sb)};
                                   });
}

TG_REGISTER_OP("neg");
Tensor neg(const Tensor& x) { return unary_op("neg", "NegBackward", UnaryOp::Neg, x); }
TG_REGISTER_OP("exp");
Tensor exp(const Tensor& x) { return unary_op("exp", "ExpBackward", UnaryOp::Exp, x); }
TG_REGISTER_OP("log");
Tensor log(const Tensor& x) { return unary_op("log", "LogBackward", UnaryOp::Log, x); }
TG_REGISTER_OP("sqrt");
Tensor sqrt(const Tensor& x) { return unary_op("sqrt", "SqrtBackward", UnaryOp::Sqrt, x); }
TG_REGISTER_OP("abs");
Tensor abs(const Tensor& x) { return unary_op("abs", "AbsBackward", UnaryOp::Abs, x); }
TG_REGISTER_OP("sign");
Tensor sign(const Tensor& x) { return unary_op("sign", "SignBackward", UnaryOp::Sign, x); }
TG_REGISTER_OP("pow");
Tensor pow(const Tensor& x, double exponent) {
  return unary_op("pow", "PowBackward", UnaryOp::Pow, x, exponent);
}
TG_REGISTER_OP("clamp");
Tensor clamp(const Tensor& x, double min, double max) {
  TG_CHECK(!(min > max), "clamp: min ", min, " > max ", max);
  return unary_op("clamp", "ClampBackward", UnaryOp::Clamp, x, min, max);
}
TG_REGISTER_OP("relu");
Tensor relu(const Tensor& x) { return unary_op("relu", "ReluBackward", UnaryOp::Relu, x); }
TG_REGISTER_OP("leaky_relu");
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return unary_op("leaky_relu", "LeakyReluBackward", UnaryOp::LeakyRelu, x, negative_slope);
}
TG_REGISTER_OP("elu");
Tensor elu(const Tensor& x, double alpha) {
  return unary_op("elu", "EluBackward", UnaryOp::Elu, x, alpha, 1.0);
}
TG_REGISTER_OP("selu");
Tensor selu(const Tensor& x) {
  return unary_op("selu", "SeluBackward", UnaryOp::Elu, x, 1.6732632423543772848170429916717,
                  1.0507009873554804934193349852946);
}
TG_REGISTER_OP("sigmoid");
Tensor sigmoid(const Tensor& x) {
  return unary_op("sigmoid", "SigmoidBackward", UnaryOp::Sigmoid, x);
}
TG_REGISTER_OP("tanh");
Tensor tanh(const Tensor& x) { return unary_op("tanh", "TanhBackward", UnaryOp::Tanh, x); }
TG_REGISTER_OP("gelu");
Tensor gelu(const Tensor& x, GeluApproximation approximate) {
  return approximate == GeluApproximation::Tanh
             ? unary_op("gelu", "GeluTanhBackward", UnaryOp::GeluTanh, x)
             : unary_op("gelu", "GeluBackward", UnaryOp::Gelu, x);
}
TG_REGISTER_OP("softplus");
Tensor softplus(const Tensor& x) {
  return unary_op("softplus", "SoftplusBackward", UnaryOp::Softplus, x);
}

Tensor operator-(double a, const Tensor& b) { return sub(ops::scalar_operand(a, b), b); }
Tensor operator/(double a, const Tensor& b) { return div(ops::scalar_operand(a, b), b); }

Tensor& add_(Tensor& dst, const Tensor& src) {
  ops::check_float_pair("add_", dst, src);
  TG_CHECK(!(grad_mode_enabled() && dst.requires_grad()),
           "add_: in-place write to a tensor that "
           "requires grad (shape ",
           dst.shape(), ")");
  const Shape shape = ops::broadcast_shapes("add_", dst.shape(), src.shape());
  TG_CHECK(shape == dst.shape(), "add_: source of shape ", src.shape(),
           " does not broadcast to the destination's shape ", dst.shape());
  for (int64_t d = 0; d < dst.dim(); ++d) {
    TG_CHECK(dst.stride(d) != 0 || dst.size(d) <= 1, "add_: the destination (shape ", dst.shape(),
             ", strides ", dst.strides(), ") is a broadcast view; its elements overlap");
  }
  if (dst.numel() == 0) return dst;
  // A source overlapping the destination (other than as the same view) is read first.
  const Tensor source = (src.storage() == dst.storage() && !src.is_alias_of(dst))
                            ? src.detach().clone()
                            : src.detach();
  run_binary(BinaryOp::Add, dst, dst, source, shape);
  dst.bump_version();
  return dst;
}

}  // namespace tg
