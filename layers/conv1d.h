// Conv1d: x (N, C_in, L) or unbatched (C_in, L) -> (N, C_out, L'), as torch.nn.Conv1d:
// weight (C_out, C_in / groups, k) and bias (C_out,) uniform in ±1/sqrt(fan_in), fan_in =
// C_in / groups · k (PyTorch's kaiming_uniform_ with a = sqrt(5)); core/ops/conv1d.h.
#pragma once

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

struct Conv1dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class Conv1d : public Module {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
         const Conv1dOptions& conv = {}, const TensorOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Tensor weight;  // (out_channels, in_channels / groups, kernel_size)
  Tensor bias;    // (out_channels,) or undefined

 private:
  int64_t in_channels_, out_channels_, kernel_size_;
  Conv1dOptions conv_;
};

}  // namespace tg::layers

TG_API_END
