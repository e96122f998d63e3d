// Front-ends of softmax and log_softmax (kernels/softmax.h); the losses built on them are
// in loss.cpp.
#include "softmax.h"

#include "../../kernels/softmax.h"
#include "elementwise.h"
#include "op_support.h"
#include "reduce.h"

namespace tg {

namespace {

// The kernel over `dim`, moved last and made contiguous, then moved back.
Tensor softmax_forward(const char* op, const Tensor& x, int64_t dim, bool log_output) {
  ops::check_float(op, x);
  const int64_t ndim = std::max<int64_t>(x.dim(), 1);
  const int64_t d = ops::wrap_dim(op, dim, ndim);
  const Tensor input = x.dim() == 0 ? x.detach().reshape({1}) : x.detach();
  const Tensor rows = input.transpose(d, -1).contiguous();
  Tensor out = empty(rows.shape(), ops::options_of(x));
  const int64_t cols = rows.size(-1);
  const kernels::SoftmaxArgs args{
      x.dtype(), log_output,          cols == 0 ? 0 : rows.numel() / cols,
      cols,      rows.raw_data_ptr(), out.raw_data_ptr()};
  TG_ON_DEVICE(x.device(), kernels::cpu::softmax(args), stream,
               kernels::cuda::softmax(args, stream));
  return out.transpose(d, -1).reshape(x.shape());
}

}  // namespace

TG_REGISTER_OP("softmax");
Tensor softmax(const Tensor& x, int64_t dim) {
  const Tensor y = softmax_forward("softmax", x, dim, false);
  // dx = y · (g - Σ g·y)
  return autograd::record("SoftmaxBackward", y, {x}, [y = y.detach(), dim](const Tensor& g) {
    return std::vector<Tensor>{mul(y, sub(g, sum(mul(g, y), {dim}, true)))};
  });
}

TG_REGISTER_OP("log_softmax");
Tensor log_softmax(const Tensor& x, int64_t dim) {
  const Tensor y = softmax_forward("log_softmax", x, dim, true);
  // dx = g - softmax · Σ g
  return autograd::record("LogSoftmaxBackward", y, {x}, [y = y.detach(), dim](const Tensor& g) {
    return std::vector<Tensor>{sub(g, mul(exp(y), sum(g, {dim}, true)))};
  });
}

}  // namespace tg
