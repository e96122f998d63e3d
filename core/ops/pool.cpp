// Front-ends of max_pool2d and avg_pool2d.
#include "pool.h"

#include "../../kernels/pool.h"
#include "op_support.h"

namespace tg {

namespace {

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
  const Size2 out =
      ops::window_outputs(op, {a.in_h, a.in_w}, kernel, stride, padding, dilation, ceil_mode);
  a.out_h = out[0];
  a.out_w = out[1];
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
