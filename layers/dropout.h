// Dropout (Srivastava et al. 2014): in training, zeroes each element with probability p
// and scales the rest by 1 / (1 - p); in eval, the identity. The mask comes from the
// device's Philox generator (Note [dropout RNG], kernels/dropout.h).
#pragma once

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  // forward(relu(x)) as one op (relu_dropout; Sequential runs a ReLU and a Dropout with it:
  // Note [fused neighbours]).
  Tensor forward_after_relu(const Tensor& x);
  std::string extra_repr() const override;

 private:
  double p_;
};

}  // namespace tg::layers

TG_API_END
