// Adam and AdamW (kernels/adam.h has the formula). They differ only in regularisation:
// Adam's classic weight decay is the coupled L2 penalty, AdamW's is decoupled
// (Note [regularisation names], kernels/update_common.h). AMSGrad is an option of both.
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/optim/optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class Adam : public Optimizer {
 public:
  Adam(const std::vector<Tensor>& params, const AdamParams& hyper);
  double lr() const override { return hyper_.lr; }
  void set_lr(double lr) override { hyper_.lr = lr; }
  std::string name() const override { return "Adam"; }

 protected:
  void update(ParamGroup& group, const ClipState* control) override;
  AdamParams hyper_;
};

// AdamParams with PyTorch AdamW's default decoupled weight decay (0.01).
AdamParams adamw_defaults();

class AdamW : public Adam {
 public:
  AdamW(const std::vector<Tensor>& params, const AdamParams& hyper = adamw_defaults());
  std::string name() const override { return "AdamW"; }
};

}  // namespace tg::optim

TG_API_END
