#include "activation.h"

#include <cmath>

#include "../core/ops.h"

namespace tg::layers {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

LeakyReLU::LeakyReLU(double negative_slope) : Module("LeakyReLU"), negative_slope_(negative_slope) {
  TG_CHECK(std::isfinite(negative_slope), "LeakyReLU: negative_slope must be finite, got ",
           negative_slope);
}
Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, negative_slope_); }
std::string LeakyReLU::extra_repr() const {
  return "negative_slope=" + std::to_string(negative_slope_);
}

Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor GELU::forward(const Tensor& x) { return gelu(x, approximate_); }
std::string GELU::extra_repr() const {
  return approximate_ == GeluApproximation::Tanh ? "approximate='tanh'" : "";
}

}  // namespace tg::layers
