// AdaGrad (kernels/adagrad.h has the formula).
#pragma once

#include "../foundation/config.h"
#include "optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class Adagrad : public OptimizerWith<AdagradParams> {
 public:
  // One group of parameters, or several with their own hyperparameters.
  Adagrad(const std::vector<Tensor>& params, const AdagradParams& hyper = {});
  explicit Adagrad(const std::vector<ParamGroup<AdagradParams>>& groups);
  std::string name() const override { return "Adagrad"; }

 protected:
  void update(FlatGroup& flat, const ClipState* control) override;
};

}  // namespace tg::optim

TG_API_END
