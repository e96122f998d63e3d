// average_predictions (layers/ensemble.h).
#include "ensemble.h"

#include "../core/autograd.h"
#include "../core/ops.h"

namespace tg::layers {

Tensor average_predictions(const std::vector<Module*>& models, const Tensor& x) {
  TG_CHECK(!models.empty(), "average_predictions: no models");
  NoGradGuard no_grad;
  Tensor total;
  for (Module* model : models) {
    TG_CHECK(model != nullptr, "average_predictions: a null model");
    const Tensor p = softmax((*model)(x), -1);
    total = total.defined() ? add(total, p) : p;
  }
  return div(total, static_cast<double>(models.size()));
}

}  // namespace tg::layers
