// SGD with momentum, dampening and Nesterov (kernels/sgd.h has the formula).
#pragma once

#include "optim/optimizer.h"

namespace tg::optim {

using kernels::SgdParams;

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
