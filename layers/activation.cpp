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

ELU::ELU(double alpha) : Module("ELU"), alpha_(alpha) {
  TG_CHECK(std::isfinite(alpha), "ELU: alpha must be finite, got ", alpha);
}
Tensor ELU::forward(const Tensor& x) { return elu(x, alpha_); }
std::string ELU::extra_repr() const { return "alpha=" + std::to_string(alpha_); }

Tensor SELU::forward(const Tensor& x) { return selu(x); }

Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor GELU::forward(const Tensor& x) { return gelu(x, approximate_); }
std::string GELU::extra_repr() const {
  return approximate_ == GeluApproximation::Tanh ? "approximate='tanh'" : "";
}

}  // namespace tg::layers
