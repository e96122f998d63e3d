// Front-end of the augmentation (kernels/augment.h).
#include "augment.h"

#include "../../kernels/augment.h"
#include "../dispatch.h"
#include "op_support.h"

namespace tg {

Tensor random_crop_flip(const Tensor& x, int64_t pad, bool flip, RandomState state) {
  ops::check_float("random_crop_flip", x);
  TG_CHECK(x.dim() == 4, "random_crop_flip: input must be (N, C, H, W), got shape ", x.shape());
  TG_CHECK(pad >= 0 && pad < (int64_t{1} << 30), "random_crop_flip: pad must be in [0, 2^30), got ",
           pad);
  TG_CHECK(state.offset_base == nullptr,
           "random_crop_flip: not for CUDA-graph capture (a host offset is needed)");
  // Its seed and offset come from the host: captured, every replay would crop and flip the
  // same way.
  TG_CHECK(!x.device().is_cuda() ||
               !cuda_backend::stream_capturing(x.device().index(), context(x.device()).stream()),
           "random_crop_flip: not for CUDA-graph capture (its draws come from the host and "
           "would repeat in every replay); augment outside the captured step");
  const Tensor src = x.detach().contiguous();
  Tensor out = empty(x.shape(), ops::options_of(x));
  const kernels::AugmentArgs args{
      x.dtype(), x.size(0),  x.size(1),    x.size(2),          x.size(3),         pad,
      flip,      state.seed, state.offset, src.raw_data_ptr(), out.raw_data_ptr()};
  TG_ON_DEVICE(x.device(), kernels::cpu::augment(args), stream,
               kernels::cuda::augment(args, stream));
  return out;
}

}  // namespace tg
