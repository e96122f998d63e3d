// SGD with momentum, dampening and Nesterov (kernels/sgd.h has the formula).
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/optim/optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class SGD : public OptimizerWith<SgdParams> {
 public:
  // One group of parameters, or several with their own hyperparameters.
  SGD(const std::vector<Tensor>& params, const SgdParams& hyper = {});
  explicit SGD(const std::vector<ParamGroup<SgdParams>>& groups);
  std::string name() const override { return hypers_.front().nesterov ? "SGD (Nesterov)" : "SGD"; }

 protected:
  void update(FlatGroup& flat, const ClipState* control) override;
};

}  // namespace tg::optim

TG_API_END
