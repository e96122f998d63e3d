// Linear: y = x·Wᵀ + b, x (..., in) -> y (..., out). W (out, in) and b (out,) start as
// PyTorch's do: uniform in ±1/sqrt(in) (kaiming_uniform_ with a = sqrt(5) for W).
#pragma once

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true,
         const TensorOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Tensor weight;  // (out_features, in_features)
  Tensor bias;    // (out_features,) or undefined

 private:
  int64_t in_features_, out_features_;
};

}  // namespace tg::layers

TG_API_END
