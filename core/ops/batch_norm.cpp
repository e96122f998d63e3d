// Front-end of batch_norm, batch_norm_relu and batch_norm_relu_max_pool2d
// (kernels/batch_norm.h): checks, running statistics, autograd.
#include "batch_norm.h"

#include <array>

#include "../../kernels/batch_norm.h"
#include "op_support.h"
#include "pool.h"

namespace tg {

namespace {

// relu: Note [batch norm + relu]; pool (CPU, (N, C, H, W) with H, W >= 2): Note [batch norm +
// relu + pool], the result being the pooled output.
Tensor batch_norm_op(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                     const Tensor& gamma, const Tensor& beta, bool training, double momentum,
                     double eps, bool relu, bool pool = false) {
  ops::check_float("batch_norm", x);
  // (N, C), (N, C, L), (N, C, H, W), ...: statistics per channel over every other dim.
  TG_CHECK(x.dim() >= 2, "batch_norm: expected (N, C, ...) with at least 2 dims, got ", x.shape());
  const int64_t channels = x.size(1);
  int64_t per_sample = 1;  // elements of one channel in one sample
  for (int64_t d = 2; d < x.dim(); ++d) per_sample *= x.size(d);
  const kernels::BatchNormShape shape{x.size(0), channels, per_sample};
  auto check_channel_vector = [&](const Tensor& t, const char* name) {
    TG_CHECK(!t.defined() || (t.dim() == 1 && t.size(0) == channels && t.dtype() == x.dtype() &&
                              t.device() == x.device() && t.is_contiguous()),
             "batch_norm: ", name, " must be a contiguous ", x.dtype(), " (", channels, ",) on ",
             x.device(), ", got ", t.defined() ? t.shape() : Shape{});
  };
  check_channel_vector(running_mean, "running_mean");
  check_channel_vector(running_var, "running_var");
  check_channel_vector(gamma, "gamma");
  check_channel_vector(beta, "beta");
  TG_CHECK(running_mean.defined() == running_var.defined(),
           "batch_norm: give both running statistics or neither");
  TG_CHECK(training || running_mean.defined(), "batch_norm: eval mode needs running statistics");
  TG_CHECK(!training || shape.count() > 1,
           "batch_norm: training needs more than one value per channel, got input ", x.shape());
  TG_CHECK(eps > 0 && momentum >= 0 && momentum <= 1,
           "batch_norm: need eps > 0 and momentum in [0, 1]");
  const TensorOptions options = ops::options_of(x);
  const Tensor xc = x.detach().contiguous();
  Tensor y = empty(pool ? Shape{x.size(0), channels, x.size(2) / 2, x.size(3) / 2} : x.shape(),
                   options),
         mean = empty({channels}, options), invstd = empty({channels}, options);
  const Tensor argmax =
      pool ? empty(y.shape(), TensorOptions(DType::Int64).device(x.device())) : Tensor();
  {
    NoGradGuard no_grad;  // the running statistics are buffers, written in place
    kernels::BatchNormForwardArgs args{
        x.dtype(),
        shape,
        xc.raw_data_ptr(),
        gamma.defined() ? gamma.raw_data_ptr() : nullptr,
        beta.defined() ? beta.raw_data_ptr() : nullptr,
        pool ? nullptr : y.raw_data_ptr(),
        training,
        running_mean.defined() ? running_mean.raw_data_ptr() : nullptr,
        running_var.defined() ? running_var.raw_data_ptr() : nullptr,
        mean.raw_data_ptr(),
        invstd.raw_data_ptr(),
        momentum,
        eps,
        relu};
    if (pool) {
      args.pooled = y.raw_data_ptr();
      args.argmax = argmax.data_ptr<int64_t>();
      args.height = x.size(2);
      args.width = x.size(3);
    }
    TG_ON_DEVICE(
        x.device(), kernels::cpu::batchnorm_forward(args), stream,
        kernels::cuda::batchnorm_forward(args, stream, ops::scratch_allocator(x.device())));
    if (training && running_mean.defined()) {
      running_mean.bump_version();
      running_var.bump_version();
    }
  }
  if (!autograd::any_requires_grad({x, gamma, beta})) return y;
  const char* node = pool   ? "BatchNormReluMaxPool2dBackward"
                     : relu ? "BatchNormReluBackward"
                            : "BatchNormBackward";
  return autograd::record(
      node, y, {x, gamma, beta},
      [node, shape, training, relu, options, xs = autograd::SavedTensor(xc),
       gs = autograd::SavedTensor(gamma),
       bs = relu ? autograd::SavedTensor(beta) : autograd::SavedTensor(), mean, invstd, argmax,
       need = std::array<bool, 3>{x.requires_grad(), gamma.defined() && gamma.requires_grad(),
                                  beta.defined() && beta.requires_grad()}](const Tensor& g) {
        const Tensor& xv = xs.get(node);
        const Tensor gc = g.contiguous();
        const Tensor& gamma = gs.get(node);
        const Tensor& beta = bs.get(node);
        std::vector<Tensor> grads(3);
        if (need[0]) grads[0] = empty(xv.shape(), options);
        if (need[1]) grads[1] = empty({shape.c}, options);
        if (need[2]) grads[2] = empty({shape.c}, options);
        kernels::BatchNormBackwardArgs args{options.dtype(),
                                            shape,
                                            xv.raw_data_ptr(),
                                            gc.raw_data_ptr(),
                                            gamma.defined() ? gamma.raw_data_ptr() : nullptr,
                                            mean.raw_data_ptr(),
                                            invstd.raw_data_ptr(),
                                            training,
                                            need[0] ? grads[0].raw_data_ptr() : nullptr,
                                            need[1] ? grads[1].raw_data_ptr() : nullptr,
                                            need[2] ? grads[2].raw_data_ptr() : nullptr,
                                            relu,
                                            beta.defined() ? beta.raw_data_ptr() : nullptr};
        if (argmax.defined()) {  // g is the pooled output's (Note [batch norm + relu + pool])
          args.grad_y = nullptr;
          args.pooled_grad = gc.raw_data_ptr();
          args.argmax = argmax.data_ptr<int64_t>();
          args.height = xv.size(2);
          args.width = xv.size(3);
        }
        TG_ON_DEVICE(options.device(), kernels::cpu::batchnorm_backward(args), stream,
                     kernels::cuda::batchnorm_backward(args, stream,
                                                       ops::scratch_allocator(options.device())));
        return grads;
      });
}

}  // namespace

TG_REGISTER_OP("batch_norm");
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& gamma, const Tensor& beta, bool training, double momentum,
                  double eps) {
  return batch_norm_op(x, running_mean, running_var, gamma, beta, training, momentum, eps, false);
}

TG_REGISTER_OP("batch_norm_relu");
Tensor batch_norm_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& gamma, const Tensor& beta, bool training, double momentum,
                       double eps) {
  return batch_norm_op(x, running_mean, running_var, gamma, beta, training, momentum, eps, true);
}

TG_REGISTER_OP("batch_norm_relu_max_pool2d");
Tensor batch_norm_relu_max_pool2d(const Tensor& x, const Tensor& running_mean,
                                  const Tensor& running_var, const Tensor& gamma,
                                  const Tensor& beta, bool training, double momentum, double eps) {
  if (x.device().is_cpu() && x.dim() == 4 && x.size(2) >= 2 && x.size(3) >= 2) {
    return batch_norm_op(x, running_mean, running_var, gamma, beta, training, momentum, eps, true,
                         true);
  }
  // CUDA (and what max_pool2d refuses, so that it says so): the ops apart.
  return max_pool2d(
      batch_norm_relu(x, running_mean, running_var, gamma, beta, training, momentum, eps), {2, 2});
}

}  // namespace tg
