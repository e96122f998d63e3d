// Front-ends of matmul and linear. Strided operands that are row-major or transposed
// matrices go to BLAS as they are (with a transpose flag); others are made contiguous.
#include "tamegrad/core/ops/linalg.h"

#include "tamegrad/core/context.h"
#include "tamegrad/core/ops/elementwise.h"
#include "tamegrad/core/ops/op_support.h"
#include "tamegrad/kernels/gemm.h"

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
  auto batch_ok = [&](const Tensor& x) {
    return !batched || x.size(0) <= 1 || x.stride(0) >= x.size(r) * x.size(c);
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

Tensor matmul_forward(const Tensor& a, const Tensor& b) {
  ops::check_float_pair("matmul", a, b);
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
  Tensor out = empty(out_shape, ops::options_of(a));
  if (k == 0) return out.fill_(0.0);
  const Tensor da = a.detach(), db = b.detach();
  const MatrixOperand oa = matrix_operand(da), ob = matrix_operand(db);
  DeviceContext& ctx = context(a.device());
  const kernels::GemmArgs args{a.dtype(),
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
                               0.0,
                               ctx.allow_tf32()};
  TG_ON_DEVICE(a.device(), kernels::cpu::gemm(args), stream,
               kernels::cuda::gemm(args, stream, ctx.cublas_handle()));
  return out;
}

}  // namespace

TG_REGISTER_OP("matmul");
Tensor matmul(const Tensor& a, const Tensor& b) {
  Tensor out = matmul_forward(a, b);
  if (!autograd::any_requires_grad({a, b})) return out;
  return autograd::record(
      "MatmulBackward", out, {a, b}, [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g) {
        const Tensor& a = sa.get("MatmulBackward");
        const Tensor& b = sb.get("MatmulBackward");
        return std::vector<Tensor>{sum_to(matmul(g, b.transpose(-1, -2)), a.shape()),
                                   sum_to(matmul(a.transpose(-1, -2), g), b.shape())};
      });
}

TG_REGISTER_OP("linear");
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ops::check_float_pair("linear", x, weight);
  TG_CHECK(weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input ",
           x.shape(), " and weight ", weight.shape(), " do not fit (need (..., in) and (out, in))");
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)), "linear: bias ",
           bias.defined() ? bias.shape() : Shape{}, " does not fit weight ", weight.shape());
  Shape out_shape = x.shape();
  out_shape.back() = weight.size(0);
  Tensor y = matmul(x.reshape({-1, x.size(-1)}), weight.transpose(0, 1));
  if (bias.defined()) y = add(y, bias);
  return y.reshape(out_shape);
}

}  // namespace tg
