// Front-ends of the reductions: move the reduced dims last, reduce rows with the kernel,
// put the kept dims back. mean, var and the L1 norm are compositions.
//
// Note [integer reductions]: sum, max, min and argmax also take int64 and uint8 tensors,
// as PyTorch's: a sum of either is int64 (wrapping on overflow, exact below it, unlike a
// float accumulator past 2^53), max and min keep the dtype. mean, var and norm refuse
// integers, as PyTorch's do.
#include "reduce.h"

#include <algorithm>

#include "../../kernels/reduce.h"
#include "elementwise.h"
#include "index.h"
#include "op_support.h"

namespace tg {

using autograd::SavedTensor;

namespace {

struct ReducePlan {
  std::vector<bool> reduced;  // per input dim
  Shape kept_shape;           // output shape with keepdim
  Shape out_shape;            // output shape as asked
  int64_t inner = 1;          // elements reduced into each output
};

ReducePlan plan_reduction(const char* op, const Tensor& x, const std::vector<int64_t>& dims,
                          bool keepdim) {
  ReducePlan plan;
  const int64_t ndim = x.dim();
  plan.reduced.assign(ndim, dims.empty());
  for (int64_t d : dims) {
    const int64_t w = ops::wrap_dim(op, d, std::max<int64_t>(ndim, 1));
    TG_CHECK(ndim > 0, op, ": dim ", d, " given for a 0-dimensional tensor");
    TG_CHECK(!plan.reduced[w], op, ": dim ", d, " repeated in ", Shape(dims));
    plan.reduced[w] = true;
  }
  for (int64_t d = 0; d < ndim; ++d) {
    plan.kept_shape.push_back(plan.reduced[d] ? 1 : x.size(d));
    if (plan.reduced[d]) {
      plan.inner *= x.size(d);
    } else {
      plan.out_shape.push_back(x.size(d));
    }
  }
  if (keepdim) plan.out_shape = plan.kept_shape;
  return plan;
}

// Note [sum without transpose]
// A sum over the leading dims of a contiguous tensor is a column sum (kernels/reduce.h),
// over its trailing dims a row sum of the tensor as it is; over both around kept middle
// dims (a conv bias gradient: dims 0, 2, 3 of (N, C, H, W)) the trailing dims go first, as
// rows, and the leading ones then as columns of that result. Any other pattern is permuted
// into rows (one transposing copy). On a GPU the column sum runs one thread per kept
// element, so there it is taken only when those are many or the columns short.
//
// Sets [0, *lead) and [*trail, ndim) to the reduced dims and returns true when a sum can
// take the column path.
bool leading_and_trailing(const Tensor& x, const ReducePlan& plan, int64_t* lead, int64_t* trail) {
  const int64_t ndim = x.dim();
  int64_t j = 0, k = ndim;
  while (j < ndim && plan.reduced[j]) ++j;
  while (k > j && plan.reduced[k - 1]) --k;
  for (int64_t d = j; d < k; ++d) {
    if (plan.reduced[d]) return false;
  }
  if (j == 0 || j == k || !x.is_contiguous() || x.numel() == 0) return false;
  const int64_t rows = shape_numel(Shape(x.shape().begin(), x.shape().begin() + j));
  const int64_t cols = shape_numel(Shape(x.shape().begin() + j, x.shape().begin() + k));
  if (x.device().is_cuda() && cols < 1024 && rows > 256) return false;
  *lead = j;
  *trail = k;
  return true;
}

ValuesAndIndices reduce_rows(kernels::ReduceOp op, const Tensor& x, const ReducePlan& plan);

// The sum of Note [sum without transpose], in the kept shape.
Tensor column_path_sum(const Tensor& x, const ReducePlan& plan, int64_t lead, int64_t trail) {
  Tensor source = x;
  if (trail < x.dim()) {
    ReducePlan rows = plan;  // the trailing dims only
    for (int64_t d = 0; d < trail; ++d) rows.reduced[d] = false;
    rows.inner = shape_numel(Shape(x.shape().begin() + trail, x.shape().end()));
    rows.kept_shape = Shape(x.shape().begin(), x.shape().begin() + trail);
    source = reduce_rows(kernels::ReduceOp::Sum, x, rows).values;
  }
  Tensor out = empty(plan.kept_shape, ops::options_of(x));
  const int64_t rows = shape_numel(Shape(x.shape().begin(), x.shape().begin() + lead));
  const kernels::ColumnSumArgs args{x.dtype(), rows, source.numel() / rows, source.raw_data_ptr(),
                                    out.raw_data_ptr()};
  TG_ON_DEVICE(x.device(), kernels::cpu::column_sum(args), stream,
               kernels::cuda::column_sum(args, stream));
  return out;
}

// Runs the kernel; returns values (and indices) in the kept shape.
ValuesAndIndices reduce_rows(kernels::ReduceOp op, const Tensor& x, const ReducePlan& plan) {
  int64_t lead = 0, trail = 0;
  if (op == kernels::ReduceOp::Sum && leading_and_trailing(x, plan, &lead, &trail)) {
    return {column_path_sum(x, plan, lead, trail), Tensor()};
  }
  std::vector<int64_t> order;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!plan.reduced[d]) order.push_back(d);
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (plan.reduced[d]) order.push_back(d);
  }
  const Tensor rows = x.detach().permute(order).contiguous();
  const int64_t outer = plan.inner == 0 ? shape_numel(plan.kept_shape) : x.numel() / plan.inner;
  ValuesAndIndices result;
  result.values = empty(plan.kept_shape, ops::options_of(x));
  const bool with_indices = op != kernels::ReduceOp::Sum;
  if (with_indices)
    result.indices = empty(plan.kept_shape, TensorOptions(DType::Int64).device(x.device()));
  if (plan.inner == 0) {  // an empty sum is 0
    result.values.fill_(0.0);
    return result;
  }
  const kernels::ReduceArgs args{op,
                                 x.dtype(),
                                 outer,
                                 plan.inner,
                                 rows.raw_data_ptr(),
                                 result.values.raw_data_ptr(),
                                 with_indices ? result.indices.data_ptr<int64_t>() : nullptr};
  TG_ON_DEVICE(x.device(), kernels::cpu::reduce(args), stream,
               kernels::cuda::reduce(args, stream, ops::scratch_allocator(x.device())));
  return result;
}

// Integer reductions (Note [integer reductions]): int64 as it is, uint8 widened to int64
// (sums give int64 as PyTorch's; max and min narrow back, exactly). Floats pass through.
Tensor reducible(const char* op_name, const Tensor& x) {
  TG_CHECK(x.defined(), op_name, ": undefined tensor");
  ops::check_not_half(op_name, x);
  return x.dtype() == DType::UInt8 ? x.to(DType::Int64) : x;
}
// An extreme's values back in x's dtype (uint8 in, uint8 out).
ValuesAndIndices narrowed(ValuesAndIndices r, DType dtype) {
  if (r.values.dtype() != dtype) r.values = r.values.to(dtype);
  return r;
}

ValuesAndIndices extreme_along(const char* op_name, const char* node, kernels::ReduceOp op,
                               const Tensor& x_in, int64_t dim, bool keepdim) {
  const Tensor x = reducible(op_name, x_in);
  const int64_t ndim = std::max<int64_t>(x.dim(), 1);
  const int64_t d = ops::wrap_dim(op_name, dim, ndim);
  const Tensor input = x.dim() == 0 ? x.reshape({1}) : x;
  TG_CHECK(input.size(d) > 0, op_name, ": dim ", dim, " of shape ", x.shape(), " is empty");
  const ReducePlan plan = plan_reduction(op_name, input, {d}, keepdim);
  ValuesAndIndices kept = reduce_rows(op, input, plan);
  Tensor values =
      autograd::record(node, kept.values, {input},
                       [indices = kept.indices, d, in_shape = input.shape()](const Tensor& g) {
                         return std::vector<Tensor>{scatter_add_along(g, d, indices, in_shape)};
                       });
  ValuesAndIndices result{values.reshape(plan.out_shape), kept.indices.reshape(plan.out_shape)};
  if (x.dim() == 0) result = {result.values.reshape({}), result.indices.reshape({})};
  return narrowed(result, x_in.dtype());
}

Tensor extreme_all(const char* op_name, const char* node, kernels::ReduceOp op,
                   const Tensor& x_in) {
  const Tensor x = reducible(op_name, x_in);
  TG_CHECK(x.numel() > 0, op_name, ": the tensor (shape ", x.shape(), ") is empty");
  const ReducePlan plan = plan_reduction(op_name, x, {}, false);
  const Tensor value = reduce_rows(op, x, plan).values.reshape({});
  if (!autograd::any_requires_grad({x})) return narrowed({value, Tensor()}, x_in.dtype()).values;
  return autograd::record(node, value, {x},
                          [saved = SavedTensor(x), value = value.detach(), node](const Tensor& g) {
                            const Tensor& x = saved.get(node);
                            const Tensor winners = eq(x, value);
                            return std::vector<Tensor>{mul(winners, div(g, sum(winners)))};
                          });
}

}  // namespace

TG_REGISTER_OP("sum");
Tensor sum(const Tensor& x_in, const std::vector<int64_t>& dims, bool keepdim) {
  const Tensor x = reducible("sum", x_in);
  const ReducePlan plan = plan_reduction("sum", x, dims, keepdim);
  const Tensor kept = reduce_rows(kernels::ReduceOp::Sum, x, plan).values;
  return autograd::record_composed(
             "SumBackward", kept, {x},
             [in_shape = x.shape(), kept_shape = plan.kept_shape](const Tensor& g) {
               return std::vector<Tensor>{g.reshape(kept_shape).expand(in_shape)};
             })
      .reshape(plan.out_shape);
}

TG_REGISTER_OP("mean");
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  if (x.defined()) ops::check_not_half("mean", x);
  TG_CHECK(!x.defined() || is_floating(x.dtype()), "mean: needs a floating-point tensor, got ",
           x.dtype(), " of shape ", x.shape(),
           " (as PyTorch's; convert it first: mean(x.to(DType::Float32)))");
  const ReducePlan plan = plan_reduction("mean", x, dims, keepdim);
  return div(sum(x, dims, keepdim), static_cast<double>(plan.inner));
}

TG_REGISTER_OP("max");
ValuesAndIndices max(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_along("max", "MaxBackward", kernels::ReduceOp::Max, x, dim, keepdim);
}
TG_REGISTER_OP("min");
ValuesAndIndices min(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_along("min", "MinBackward", kernels::ReduceOp::Min, x, dim, keepdim);
}
Tensor max(const Tensor& x) {
  return extreme_all("max", "MaxAllBackward", kernels::ReduceOp::Max, x);
}
Tensor min(const Tensor& x) {
  return extreme_all("min", "MinAllBackward", kernels::ReduceOp::Min, x);
}

TG_REGISTER_OP("argmax");
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  NoGradGuard no_grad;
  return max(x, dim, keepdim).indices;
}

TG_REGISTER_OP("var");
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  ops::check_float("var", x);
  const ReducePlan plan = plan_reduction("var", x, dims, keepdim);
  const Tensor centered = sub(x, mean(x, dims, /*keepdim=*/true));
  const double divisor = static_cast<double>(plan.inner - (unbiased ? 1 : 0));
  return div(sum(mul(centered, centered), dims, keepdim), divisor);
}

TG_REGISTER_OP("norm");
Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims, bool keepdim) {
  ops::check_float("norm", x);
  TG_CHECK(p == 1 || p == 2, "norm: p must be 1 or 2, got ", p);
  if (p == 1) return sum(abs(x), dims, keepdim);
  const ReducePlan plan = plan_reduction("norm", x, dims, keepdim);
  Tensor kept;
  {
    NoGradGuard no_grad;
    kept = sqrt(sum(mul(x, x), dims, /*keepdim=*/true));
  }
  // d||x||/dx = x / ||x||, taken as 0 where the norm is 0.
  return autograd::record("NormBackward", kept, {x},
                          [saved = SavedTensor(x), kept = kept.detach()](const Tensor& g) {
                            const Tensor& x = saved.get("NormBackward");
                            const Tensor zero = ops::scalar_like(0.0, kept);
                            const Tensor safe =
                                where(eq(kept, zero), ops::scalar_like(1.0, kept), kept);
                            return std::vector<Tensor>{mul(x, div(g, safe))};
                          })
      .reshape(plan.out_shape);
}

}  // namespace tg
