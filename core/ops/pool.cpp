// Front-ends of max_pool2d and avg_pool2d.
#include "tamegrad/core/ops/pool.h"

#include "tamegrad/core/ops/op_support.h"
#include "tamegrad/kernels/pool.h"

namespace tg {

namespace {

// Output size along one axis, PyTorch's rule (kernels/pool.h).
int64_t pooled_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                    bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

kernels::Pool2dArgs pool_shape(const char* op, const Tensor& x, Size2 kernel, Size2 stride,
                               Size2 padding, Size2 dilation, bool ceil_mode) {
  ops::check_float(op, x);
  TG_CHECK(x.dim() == 4, op, ": expected (N, C, H, W), got shape ", x.shape());
  for (int i = 0; i < 2; ++i) {
    if (stride[i] == 0) stride[i] = kernel[i];
    TG_CHECK(kernel[i] > 0 && stride[i] > 0 && padding[i] >= 0 && padding[i] <= kernel[i] / 2, op,
             ": need kernel > 0, stride > 0 and 0 <= padding <= kernel / 2; got kernel (",
             kernel[0], ", ", kernel[1], "), stride (", stride[0], ", ", stride[1], "), padding (",
             padding[0], ", ", padding[1], ")");
  }
  kernels::Pool2dArgs a{};
  a.dtype = x.dtype();
  a.planes = x.size(0) * x.size(1);
  a.in_h = x.size(2);
  a.in_w = x.size(3);
  a.kernel_h = kernel[0];
  a.kernel_w = kernel[1];
  a.stride_h = stride[0];
  a.stride_w = stride[1];
  a.pad_h = padding[0];
  a.pad_w = padding[1];
  TG_CHECK(dilation[0] >= 1 && dilation[1] >= 1, op, ": dilation must be >= 1, got (", dilation[0],
           ", ", dilation[1], ")");
  a.dil_h = dilation[0];
  a.dil_w = dilation[1];
  const int64_t span_h = (a.kernel_h - 1) * a.dil_h + 1, span_w = (a.kernel_w - 1) * a.dil_w + 1;
  TG_CHECK(a.in_h + 2 * a.pad_h >= span_h && a.in_w + 2 * a.pad_w >= span_w, op, ": kernel (",
           kernel[0], ", ", kernel[1], ") with dilation (", dilation[0], ", ", dilation[1],
           ") is larger than the padded input ", x.shape());
  a.out_h = pooled_size(a.in_h, a.kernel_h, a.stride_h, a.pad_h, a.dil_h, ceil_mode);
  a.out_w = pooled_size(a.in_w, a.kernel_w, a.stride_w, a.pad_w, a.dil_w, ceil_mode);
  return a;
}

Tensor pool2d(const char* node, bool is_max, const Tensor& x, const kernels::Pool2dArgs& shape) {
  const Tensor input = x.detach().contiguous();
  const Shape out_shape{x.size(0), x.size(1), shape.out_h, shape.out_w};
  Tensor out = empty(out_shape, ops::options_of(x));
  Tensor argmax;
  if (is_max) argmax = empty(out_shape, TensorOptions(DType::Int64).device(x.device()));
  const kernels::PoolForwardArgs args{shape, is_max, input.raw_data_ptr(), out.raw_data_ptr(),
                                      is_max ? argmax.data_ptr<int64_t>() : nullptr};
  TG_ON_DEVICE(x.device(), kernels::cpu::pool2d_forward(args), stream,
               kernels::cuda::pool2d_forward(args, stream));
  return autograd::record(
      node, out, {x}, [shape, is_max, argmax, in_shape = x.shape()](const Tensor& g) {
        const Tensor grad = g.contiguous();
        Tensor grad_in = empty(in_shape, ops::options_of(g));
        const kernels::PoolBackwardArgs args{shape, is_max, grad.raw_data_ptr(),
                                             is_max ? argmax.data_ptr<int64_t>() : nullptr,
                                             grad_in.raw_data_ptr()};
        TG_ON_DEVICE(g.device(), kernels::cpu::pool2d_backward(args), stream,
                     kernels::cuda::pool2d_backward(args, stream));
        return std::vector<Tensor>{grad_in};
      });
}

}  // namespace

TG_REGISTER_OP("max_pool2d");
Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding, Size2 dilation,
                  bool ceil_mode) {
  const kernels::Pool2dArgs shape =
      pool_shape("max_pool2d", x, kernel, stride, padding, dilation, ceil_mode);
  return pool2d("MaxPool2dBackward", true, x, shape);
}

TG_REGISTER_OP("avg_pool2d");
Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding, bool ceil_mode,
                  bool count_include_pad) {
  kernels::Pool2dArgs shape =
      pool_shape("avg_pool2d", x, kernel, stride, padding, {1, 1}, ceil_mode);
  shape.count_include_pad = count_include_pad;
  return pool2d("AvgPool2dBackward", false, x, shape);
}

}  // namespace tg
