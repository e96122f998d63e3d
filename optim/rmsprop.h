// RMSProp, plain, centered and with momentum (kernels/rmsprop.h has the formula).
#pragma once

#include "../foundation/config.h"
#include "optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class RMSprop : public OptimizerWith<RMSpropParams> {
 public:
  // One group of parameters, or several with their own hyperparameters.
  RMSprop(const std::vector<Tensor>& params, const RMSpropParams& hyper = {});
  explicit RMSprop(const std::vector<ParamGroup<RMSpropParams>>& groups);
  std::string name() const override {
    return hypers_.front().centered ? "RMSprop (centered)" : "RMSprop";
  }

 protected:
  void update(FlatGroup& flat, const ClipState* control) override;
};

}  // namespace tg::optim

TG_API_END
