// Residual: y = shortcut(x) + body(x) (He et al. 2016), shortcut the identity, or a given
// projection when the body changes the shape (a Linear without bias, or a 1x1 Conv2d).
// The sum gives every layer below a path for the gradient that skips the body, the remedy
// for gradients that vanish through depth. Children "body" and "projection" (state dict
// names body.*, projection.*).
#pragma once

#include <memory>

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

class Residual : public Module {
 public:
  explicit Residual(std::shared_ptr<Module> body, std::shared_ptr<Module> projection = nullptr);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Module> body_, projection_;
};

}  // namespace tg::layers

TG_API_END
