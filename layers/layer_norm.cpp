#include "layer_norm.h"

#include <cmath>

#include "../core/factory.h"
#include "../core/ops/layer_norm.h"

namespace tg::layers {

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine,
                     const TensorOptions& options)
    : Module("LayerNorm"), normalized_shape_(std::move(normalized_shape)), eps_(eps) {
  TG_CHECK(!normalized_shape_.empty() && shape_numel(normalized_shape_) > 0,
           "LayerNorm: normalized_shape must be non-empty with elements, got ", normalized_shape_);
  TG_CHECK(eps > 0 && std::isfinite(eps), "LayerNorm: eps must be finite and > 0, got ", eps);
  if (elementwise_affine) {
    weight = ones(normalized_shape_, options).requires_grad_();
    bias = zeros(normalized_shape_, options).requires_grad_();
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  return layer_norm(x, normalized_shape_, weight, bias, eps_);
}

std::string LayerNorm::extra_repr() const {
  return to_string(normalized_shape_) + ", eps=" + std::to_string(eps_) +
         (weight.defined() ? "" : ", elementwise_affine=false");
}

}  // namespace tg::layers
