// SGD with momentum, dampening and Nesterov (kernels/sgd.h has the formula).
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/optim/optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class SGD : public Optimizer {
 public:
  SGD(const std::vector<Tensor>& params, const SgdParams& hyper);
  double lr() const override { return hyper_.lr; }
  void set_lr(double lr) override { hyper_.lr = lr; }
  std::string name() const override { return hyper_.nesterov ? "SGD (Nesterov)" : "SGD"; }

 protected:
  void update(ParamGroup& group, const ClipState* control) override;

 private:
  SgdParams hyper_;
};

}  // namespace tg::optim

TG_API_END
