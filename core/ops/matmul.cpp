// Front-ends of matmul and linear. Strided operands that are row-major or transposed
// matrices go to BLAS as they are (with a transpose flag); others are made contiguous.
// Under autocast (Note [autocast], core/autocast.h) both round their operands to the half
// dtype, save those, and run forward and backward products on them into float32.
#include "matmul.h"

#include "../../kernels/matmul.h"
#include "../context.h"
#include "elementwise.h"
#include "op_support.h"
#include "reduce.h"

namespace tg {

using autograd::SavedTensor;
using autograd::sum_to;

namespace {

struct MatrixOperand {
  Tensor storage_owner;  // keeps a contiguous copy alive when one was needed
  const void* data;
  bool transposed;
  int64_t ld;
  int64_t batch_stride;  // 0 for a 2-D operand
};

// A (.., rows, cols) tensor as BLAS sees it.
MatrixOperand matrix_operand(const Tensor& t) {
  const int64_t r = t.dim() - 2, c = t.dim() - 1;
  const bool batched = t.dim() == 3;
  // A batch stride of 0 (an operand expanded over the batch) reuses one matrix: GEMM allows it.
  auto batch_ok = [&](const Tensor& x) {
    return !batched || x.size(0) <= 1 || x.stride(0) == 0 || x.stride(0) >= x.size(r) * x.size(c);
  };
  if ((t.stride(c) == 1 || t.size(c) <= 1) && t.stride(r) >= std::max<int64_t>(t.size(c), 1) &&
      batch_ok(t)) {
    return {t, t.raw_data_ptr(), false, t.stride(r), batched ? t.stride(0) : 0};
  }
  if ((t.stride(r) == 1 || t.size(r) <= 1) && t.stride(c) >= std::max<int64_t>(t.size(r), 1) &&
      batch_ok(t)) {
    return {t, t.raw_data_ptr(), true, t.stride(c), batched ? t.stride(0) : 0};
  }
  const Tensor owned = t.contiguous();
  return {owned, owned.raw_data_ptr(), false, owned.size(c),
          batched ? owned.size(r) * owned.size(c) : 0};
}

// out = a · b + beta · out, for 2-D or 3-D operands already checked; out contiguous (float32
// for half operands). A bias (a CPU product's, with beta = 0: kernels/matmul.h) is added to
// every row.
void product_into(const Tensor& a, const Tensor& b, Tensor& out, double beta,
                  const Tensor& bias = Tensor()) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const int64_t batch = out.dim() == 3 ? out.size(0) : 1;
  if (k == 0) {
    if (beta == 0.0) out.fill_(0.0);
    return;
  }
  const Tensor da = a.detach(), db = b.detach();
  const MatrixOperand oa = matrix_operand(da), ob = matrix_operand(db);
  DeviceContext& ctx = context(a.device());
  const kernels::MatmulArgs args{a.dtype(),
                                 oa.transposed,
                                 ob.transposed,
                                 m,
                                 n,
                                 k,
                                 batch,
                                 oa.data,
                                 oa.ld,
                                 oa.batch_stride,
                                 ob.data,
                                 ob.ld,
                                 ob.batch_stride,
                                 out.raw_data_ptr(),
                                 n,
                                 m * n,
                                 1.0,
                                 beta,
                                 ctx.allow_tf32(),
                                 bias.defined() ? bias.raw_data_ptr() : nullptr};
  TG_ON_DEVICE(a.device(), kernels::cpu::matmul(args), stream,
               kernels::cuda::matmul(args, stream, ctx.cublas_handle()));
}

// a · b for operands whose dtypes were checked (float, or one half dtype: float32 out).
Tensor matmul_forward(const Tensor& a, const Tensor& b) {
  TG_CHECK((a.dim() == 2 || a.dim() == 3) && (b.dim() == 2 || b.dim() == 3),
           "matmul: operands must be 2-D or 3-D, got shapes ", a.shape(), " and ", b.shape());
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  TG_CHECK(b.size(-2) == k, "matmul: shapes ", a.shape(), " and ", b.shape(), " do not multiply (",
           k, " != ", b.size(-2), ")");
  int64_t batch = 1;
  if (a.dim() == 3 && b.dim() == 3) {
    TG_CHECK(a.size(0) == b.size(0), "matmul: batch sizes differ: ", a.shape(), " and ", b.shape());
  }
  if (a.dim() == 3) batch = a.size(0);
  if (b.dim() == 3) batch = b.size(0);
  const Shape out_shape = (a.dim() == 3 || b.dim() == 3) ? Shape{batch, m, n} : Shape{m, n};
  Tensor out =
      empty(out_shape, ops::options_of(a).dtype(is_half(a.dtype()) ? DType::Float32 : a.dtype()));
  product_into(a, b, out, 0.0);
  return out;
}

// Which inputs of a node need a gradient, decided when it is recorded: a backward skips
// the products whose result nobody wants (the first layer's input gradient).
bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// a · b added into `sink`, the .grad the engine offered for an input (Note [gradient sinks]),
// when it can take the product: contiguous, of the product's shape and dtype, and sharing no
// storage with an operand. Returns whether it did.
bool product_into_sink(const Tensor& a, const Tensor& b, const Tensor& sink) {
  const DType dtype = is_half(a.dtype()) ? DType::Float32 : a.dtype();
  if (!sink.defined() || !sink.is_contiguous() || sink.dtype() != dtype ||
      sink.shape() != Shape{a.size(-2), b.size(-1)} || sink.device() != a.device() ||
      sink.storage() == a.storage() || sink.storage() == b.storage()) {
    return false;
  }
  Tensor into = sink;
  product_into(a, b, into, 1.0);
  into.bump_version();
  return true;
}

// A Linear's weight gradient gᵀ·x: into the weight's sink where one is offered and fits,
// else a fresh tensor (`product` makes it: matmul_forward or the recorded matmul).
template <typename Product>
Tensor weight_grad(const Tensor& gt, const Tensor& x, autograd::GradSinks& sinks, Product product) {
  if (sinks.into.size() > 1 && product_into_sink(gt, x, sinks.into[1])) {
    sinks.taken[1] = true;
    return Tensor();
  }
  return product(gt, x);
}

// matmul_core under autocast: the products on the operands rounded to `half`. Its backward
// runs the products as kernels (not recorded ops), so autograd::grad(create_graph=true)
// refuses it by name instead of returning a gradient it could not differentiate.
Tensor matmul_autocast(const Tensor& a, const Tensor& b, DType half) {
  const Tensor a16 = ops::half_operand(a, half), b16 = ops::half_operand(b, half);
  Tensor out = matmul_forward(a16, b16);
  if (!autograd::any_requires_grad({a, b})) return out;
  return autograd::record(
      "MatmulBackward", out, {a, b},
      [a16, b16, half, a_shape = a.shape(), b_shape = b.shape(), need_a = wants_grad(a),
       need_b = wants_grad(b)](const Tensor& g) {
        const Tensor g16 = ops::half_operand(g, half);
        return std::vector<Tensor>{
            need_a ? sum_to(matmul_forward(g16, b16.transpose(-1, -2)), a_shape) : Tensor(),
            need_b ? sum_to(matmul_forward(a16.transpose(-1, -2), g16), b_shape) : Tensor()};
      });
}

// 2-D and 3-D operands (a 2-D one reused for every batch entry), with autograd.
Tensor matmul_core(const Tensor& a, const Tensor& b) {
  ops::check_float_pair("matmul", a, b);
  const DType half = ops::autocast_operands(a, b);
  if (half != DType::Float32) return matmul_autocast(a, b, half);
  Tensor out = matmul_forward(a, b);
  if (!autograd::any_requires_grad({a, b})) return out;
  return autograd::record_composed(
      "MatmulBackward", out, {a, b},
      [sa = SavedTensor(a), sb = SavedTensor(b), need_a = wants_grad(a),
       need_b = wants_grad(b)](const Tensor& g) {
        const Tensor& a = sa.get("MatmulBackward");
        const Tensor& b = sb.get("MatmulBackward");
        return std::vector<Tensor>{
            need_a ? sum_to(matmul(g, b.transpose(-1, -2)), a.shape()) : Tensor(),
            need_b ? sum_to(matmul(a.transpose(-1, -2), g), b.shape()) : Tensor()};
      });
}

}  // namespace

// Note [matmul rules]: PyTorch's. 1-D·1-D is a dot product (0-d); a 1-D left operand is a
// row (k) -> (1, k) and a 1-D right operand a column, the added dim removed from the
// result; otherwise the last two dims multiply and the leading (batch) dims broadcast,
// (1, m, k)·(3, k, n) -> (3, m, n), (2, 1, m, k)·(4, k, n) -> (2, 4, m, n). Batches of one
// leading dim run as one strided-batched GEMM (an expanded operand with batch stride 0);
// more leading dims are flattened into one, copying an operand only when it was expanded.
TG_REGISTER_OP("matmul");
Tensor matmul(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.defined() && b.defined() && a.dim() >= 1 && b.dim() >= 1,
           "matmul: operands must have at least 1 dim, got shapes ",
           a.defined() ? a.shape() : Shape{}, " and ", b.defined() ? b.shape() : Shape{});
  if (a.dim() == 1 && b.dim() == 1) {
    TG_CHECK(a.size(0) == b.size(0), "matmul: vectors of ", a.size(0), " and ", b.size(0),
             " elements have no dot product");
    return matmul_core(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  }
  if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  if (a.dim() <= 3 && b.dim() <= 3 && (a.dim() == 2 || b.dim() == 2 || a.size(0) == b.size(0))) {
    return matmul_core(a, b);
  }
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  TG_CHECK(b.size(-2) == k, "matmul: shapes ", a.shape(), " and ", b.shape(), " do not multiply (",
           k, " != ", b.size(-2), ")");
  const Shape batch_a(a.shape().begin(), a.shape().end() - 2),
      batch_b(b.shape().begin(), b.shape().end() - 2);
  const Shape batch = ops::broadcast_shapes("matmul", batch_a, batch_b);
  const int64_t count = shape_numel(batch);
  auto batched = [&](const Tensor& t, int64_t rows, int64_t cols) {
    Shape full = batch;
    full.push_back(rows);
    full.push_back(cols);
    const Tensor expanded = t.expand(full);
    return batch.size() == 1 ? expanded : expanded.reshape({count, rows, cols});
  };
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  return matmul_core(batched(a, m, k), batched(b, k, n)).reshape(out_shape);
}

// Note [fused linear]
// y = x·Wᵀ + b is one GEMM, not a product followed by a broadcast add over the whole output.
// On the CPU the product takes the bias (kernels/matmul.h: oneDNN's matmul primitive adds it
// as it writes y, so no pass writes the bias over y first and none reads y back; the MNIST
// MLP's step 2-3% shorter, in-process A/B); elsewhere y starts as the bias broadcast over
// the rows and the product is added to it (beta = 1), as PyTorch's addmm does. Both give the
// same bits. Backward: dx = g·W, dW = gᵀ·x (added into the weight's .grad where the engine
// offers it: Note [gradient sinks] in core/autograd.h), db = the column sums of g (sum over
// the leading dimension: kernels/reduce.h's column sum, no transpose).
TG_REGISTER_OP("linear");
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ops::check_float_pair("linear", x, weight);
  TG_CHECK(weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input ",
           x.shape(), " and weight ", weight.shape(), " do not fit (need (..., in) and (out, in))");
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)), "linear: bias ",
           bias.defined() ? bias.shape() : Shape{}, " does not fit weight ", weight.shape());
  if (bias.defined()) ops::check_float_pair("linear", x, bias);
  Shape out_shape = x.shape();
  out_shape.back() = weight.size(0);
  const Tensor rows = x.reshape({-1, x.size(-1)});  // (N, in)
  const int64_t n = rows.size(0), out_features = weight.size(0);
  // A fresh output (contiguous() of the expanded bias could alias the bias itself).
  Tensor y = empty({n, out_features}, ops::options_of(x));
  const DType half = ops::autocast_operands(x, weight);
  // On the CPU the product adds the bias itself (kernels/matmul.h); elsewhere y starts as it.
  const bool bias_in_product = bias.defined() && half == DType::Float32 && x.device().is_cpu() &&
                               bias.is_contiguous() && rows.size(1) > 0;
  if (bias.defined() && !bias_in_product) y.copy_(bias.detach().expand({n, out_features}));
  std::vector<Tensor> inputs{rows, weight};
  if (bias.defined()) inputs.push_back(bias);
  if (half != DType::Float32) {
    const Tensor x16 = ops::half_operand(rows, half), w16 = ops::half_operand(weight, half);
    product_into(x16, w16.transpose(0, 1), y, bias.defined() ? 1.0 : 0.0);
    if (autograd::any_requires_grad(inputs)) {
      y = autograd::record_node(  // kernels, as matmul_autocast's
          std::make_shared<autograd::Node>(
              "LinearBackward",
              [x16, w16, half, need_x = wants_grad(rows), need_w = wants_grad(weight),
               has_bias = bias.defined(),
               need_b = wants_grad(bias)](const Tensor& g, autograd::GradSinks& sinks) {
                const Tensor g16 = ops::half_operand(g, half);
                std::vector<Tensor> grads{
                    need_x ? matmul_forward(g16, w16) : Tensor(),
                    need_w ? weight_grad(g16.transpose(0, 1), x16, sinks, matmul_forward)
                           : Tensor()};
                if (has_bias) grads.push_back(need_b ? sum(g, {0}) : Tensor());
                return grads;
              }),
          y, inputs);
    }
    return y.reshape(out_shape);
  }
  product_into(rows, weight.transpose(0, 1), y, bias.defined() && !bias_in_product ? 1.0 : 0.0,
               bias_in_product ? bias.detach() : Tensor());
  if (autograd::any_requires_grad(inputs)) {
    y = autograd::record_composed_into(
        "LinearBackward", y, inputs,
        [sx = SavedTensor(rows), sw = SavedTensor(weight), need_x = wants_grad(rows),
         need_w = wants_grad(weight), has_bias = bias.defined(),
         need_b = wants_grad(bias)](const Tensor& g, autograd::GradSinks& sinks) {
          const auto recorded = [](const Tensor& a, const Tensor& b) { return matmul(a, b); };
          std::vector<Tensor> grads{
              need_x ? matmul(g, sw.get("LinearBackward")) : Tensor(),
              need_w ? weight_grad(g.transpose(0, 1), sx.get("LinearBackward"), sinks, recorded)
                     : Tensor()};
          if (has_bias) grads.push_back(need_b ? sum(g, {0}) : Tensor());
          return grads;
        });
  }
  return y.reshape(out_shape);
}

}  // namespace tg
