// conv1d as conv2d over (N, C, 1, L) (conv1d.h).
#include "conv1d.h"

#include "conv2d.h"
#include "op_support.h"

namespace tg {

TG_REGISTER_OP("conv1d");
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride,
              int64_t padding, int64_t dilation, int64_t groups) {
  TG_CHECK(x.defined() && weight.defined(), "conv1d: undefined tensor");
  TG_CHECK(x.dim() == 2 || x.dim() == 3, "conv1d: input must be (N, C, L) or (C, L), got shape ",
           x.shape());
  TG_CHECK(weight.dim() == 3, "conv1d: weight must be (C_out, C_in / groups, k), got shape ",
           weight.shape());
  const bool unbatched = x.dim() == 2;
  const Tensor batched = unbatched ? x.unsqueeze(0) : x;
  const Tensor y = conv2d(batched.unsqueeze(2), weight.unsqueeze(2), bias, {1, stride},
                          {0, padding}, {1, dilation}, groups)
                       .squeeze(2);
  return unbatched ? y.squeeze(0) : y;
}

}  // namespace tg
