// Front-ends of dropout and batch_norm.
#include "core/ops/normalization.h"

#include <array>

#include "core/context.h"
#include "core/ops/op_support.h"
#include "kernels/batchnorm.h"
#include "kernels/dropout.h"

namespace tg {

namespace {

Tensor run_dropout(const Tensor& in, double p, RandomState state) {
  const Tensor src = in.contiguous();
  Tensor out = empty(in.shape(), ops::options_of(in));
  const kernels::DropoutArgs args{in.dtype(), in.numel(), src.raw_data_ptr(), out.raw_data_ptr(),
                                  state.seed, state.offset, kernels::dropout_threshold(p),
                                  p < 1 ? 1.0 / (1.0 - p) : 0.0, state.offset_base};
  TG_ON_DEVICE(in.device(), kernels::cpu::dropout(args), kernels::cuda::dropout(args, stream));
  return out;
}

}  // namespace

TG_REGISTER_OP("dropout");
Tensor dropout(const Tensor& x, double p, bool training, Generator* generator) {
  ops::check_float("dropout", x);
  TG_CHECK(p >= 0 && p <= 1, "dropout: p must be in [0, 1], got ", p);
  if (!training || p == 0) return x;
  Generator& source = generator != nullptr ? *generator : context(x.device()).generator();
  const RandomState state = context(x.device()).reserve_random(source);
  const Tensor y = run_dropout(x.detach(), p, state);
  return autograd::record("DropoutBackward", y, {x}, [p, state](const Tensor& g) {
    return std::vector<Tensor>{run_dropout(g, p, state)};
  });
}

TG_REGISTER_OP("batch_norm");
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& gamma, const Tensor& beta, bool training, double momentum,
                  double eps) {
  ops::check_float("batch_norm", x);
  TG_CHECK(x.dim() == 2 || x.dim() == 4, "batch_norm: expected (N, C) or (N, C, H, W), got ", x.shape());
  const int64_t channels = x.size(1);
  const kernels::BatchNormShape shape{x.size(0), channels, x.dim() == 4 ? x.size(2) * x.size(3) : 1};
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
  TG_CHECK(running_mean.defined() == running_var.defined(), "batch_norm: give both running statistics or neither");
  TG_CHECK(training || running_mean.defined(), "batch_norm: eval mode needs running statistics");
  TG_CHECK(!training || shape.count() > 1, "batch_norm: training needs more than one value per channel, got input ",
           x.shape());
  TG_CHECK(eps > 0 && momentum >= 0 && momentum <= 1, "batch_norm: need eps > 0 and momentum in [0, 1]");
  const TensorOptions options = ops::options_of(x);
  const Tensor xc = x.detach().contiguous();
  Tensor y = empty(x.shape(), options), mean = empty({channels}, options), invstd = empty({channels}, options);
  {
    NoGradGuard no_grad;  // the running statistics are buffers, written in place
    kernels::BatchNormForwardArgs args{x.dtype(), shape, xc.raw_data_ptr(),
                                       gamma.defined() ? gamma.raw_data_ptr() : nullptr,
                                       beta.defined() ? beta.raw_data_ptr() : nullptr, y.raw_data_ptr(),
                                       training,
                                       running_mean.defined() ? running_mean.raw_data_ptr() : nullptr,
                                       running_var.defined() ? running_var.raw_data_ptr() : nullptr,
                                       mean.raw_data_ptr(), invstd.raw_data_ptr(), momentum, eps};
    TG_ON_DEVICE(x.device(), kernels::cpu::batchnorm_forward(args), kernels::cuda::batchnorm_forward(args, stream));
    if (training && running_mean.defined()) {
      running_mean.bump_version();
      running_var.bump_version();
    }
  }
  if (!autograd::any_requires_grad({x, gamma, beta})) return y;
  return autograd::record(
      "BatchNormBackward", y, {x, gamma, beta},
      [shape, training, options, xs = autograd::SavedTensor(xc), gs = autograd::SavedTensor(gamma), mean, invstd,
       need = std::array<bool, 3>{x.requires_grad(), gamma.defined() && gamma.requires_grad(),
                                  beta.defined() && beta.requires_grad()}](const Tensor& g) {
        const Tensor gc = g.contiguous();
        const Tensor& xv = xs.get("BatchNormBackward");
        const Tensor& gamma = gs.get("BatchNormBackward");
        std::vector<Tensor> grads(3);
        if (need[0]) grads[0] = empty(xv.shape(), options);
        if (need[1]) grads[1] = empty({shape.c}, options);
        if (need[2]) grads[2] = empty({shape.c}, options);
        const kernels::BatchNormBackwardArgs args{
            options.dtype(), shape, xv.raw_data_ptr(), gc.raw_data_ptr(),
            gamma.defined() ? gamma.raw_data_ptr() : nullptr, mean.raw_data_ptr(), invstd.raw_data_ptr(),
            training, need[0] ? grads[0].raw_data_ptr() : nullptr, need[1] ? grads[1].raw_data_ptr() : nullptr,
            need[2] ? grads[2].raw_data_ptr() : nullptr};
        TG_ON_DEVICE(options.device(), kernels::cpu::batchnorm_backward(args),
                     kernels::cuda::batchnorm_backward(args, stream));
        return grads;
      });
}

}  // namespace tg
