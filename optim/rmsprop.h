// RMSProp, plain, centered and with momentum (kernels/rmsprop.h has the formula).
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/optim/optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class RMSprop : public Optimizer {
 public:
  RMSprop(const std::vector<Tensor>& params, const RmspropParams& hyper);
  double lr() const override { return hyper_.lr; }
  void set_lr(double lr) override { hyper_.lr = lr; }
  std::string name() const override { return hyper_.centered ? "RMSprop (centered)" : "RMSprop"; }

 protected:
  void update(ParamGroup& group, const ClipState* control) override;

 private:
  RmspropParams hyper_;
};

}  // namespace tg::optim

TG_API_END
