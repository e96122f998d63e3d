// LayerNorm: each sample normalised over its last dims (normalized_shape), then scaled and
// shifted by learned weight (ones) and bias (zeros) of normalized_shape, as
// torch.nn.LayerNorm (same parameter names, same defaults: eps 1e-5, elementwise_affine).
// A remedy for vanishing gradients in deep nets that does not depend on the batch.
#pragma once

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true,
                     const TensorOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Tensor weight;  // normalized_shape, or undefined without elementwise_affine
  Tensor bias;

 private:
  Shape normalized_shape_;
  double eps_;
};

}  // namespace tg::layers

TG_API_END
