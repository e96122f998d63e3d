// AdaGrad (kernels/adagrad.h has the formula).
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/optim/optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class Adagrad : public Optimizer {
 public:
  Adagrad(const std::vector<Tensor>& params, const AdagradParams& hyper);
  double lr() const override { return hyper_.lr; }
  void set_lr(double lr) override { hyper_.lr = lr; }
  std::string name() const override { return "Adagrad"; }

 protected:
  void update(ParamGroup& group, const ClipState* control) override;

 private:
  AdagradParams hyper_;
};

}  // namespace tg::optim

TG_API_END
