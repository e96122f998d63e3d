#include "residual.h"

#include "../core/ops/elementwise.h"

namespace tg::layers {

Residual::Residual(std::shared_ptr<Module> body, std::shared_ptr<Module> projection)
    : Module("Residual"), body_(std::move(body)), projection_(std::move(projection)) {
  TG_CHECK(body_ != nullptr, "Residual: needs a body");
  register_module("body", body_);
  if (projection_) register_module("projection", projection_);
}

Tensor Residual::forward(const Tensor& x) {
  const Tensor y = (*body_)(x);
  const Tensor shortcut = projection_ ? (*projection_)(x) : x;
  TG_CHECK(shortcut.shape() == y.shape(), "Residual: the body maps ", x.shape(), " to ", y.shape(),
           "; ",
           projection_ ? "the projection gives "
                       : "without a projection the "
                         "shortcut is ",
           shortcut.shape(), "; give a projection to the body's shape");
  return add(shortcut, y);
}

}  // namespace tg::layers
