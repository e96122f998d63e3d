// SGD with momentum, dampening and Nesterov (kernels/sgd.h has the formula).
#pragma once

#include "../foundation/config.h"
#include "optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class SGD : public OptimizerWith<SGDParams> {
 public:
  // One group of parameters, or several with their own hyperparameters.
  SGD(const std::vector<Tensor>& params, const SGDParams& hyper = {});
  explicit SGD(const std::vector<ParamGroup<SGDParams>>& groups);
  std::string name() const override { return hypers_.front().nesterov ? "SGD (Nesterov)" : "SGD"; }

 protected:
  void update(FlatGroup& flat, const ClipState* control) override;
};

}  // namespace tg::optim

TG_API_END
