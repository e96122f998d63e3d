#include "dropout.h"

#include "../core/ops.h"

namespace tg::layers {

Dropout::Dropout(double p) : Module("Dropout"), p_(p) {
  TG_CHECK(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got ", p);
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p_, is_training()); }

Tensor Dropout::forward_after_relu(const Tensor& x) { return relu_dropout(x, p_, is_training()); }

std::string Dropout::extra_repr() const { return "p=" + std::to_string(p_).substr(0, 4); }

}  // namespace tg::layers
