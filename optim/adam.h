// Adam and AdamW (kernels/adam.h has the formula). They differ only in regularisation:
// Adam's classic weight decay is the coupled L2 penalty, AdamW's is decoupled
// (Note [regularisation names], kernels/update_common.h). AMSGrad is an option of both.
#pragma once

#include "tamegrad/config.h"
#include "tamegrad/optim/optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class Adam : public OptimizerWith<AdamParams> {
 public:
  // One group of parameters, or several with their own hyperparameters.
  Adam(const std::vector<Tensor>& params, const AdamParams& hyper = {});
  explicit Adam(const std::vector<ParamGroup<AdamParams>>& groups);
  std::string name() const override { return "Adam"; }

 protected:
  void update(FlatGroup& flat, const ClipState* control) override;
};

// AdamParams with PyTorch AdamW's default decoupled weight decay (0.01).
AdamParams adamw_defaults();

class AdamW : public Adam {
 public:
  AdamW(const std::vector<Tensor>& params, const AdamParams& hyper = adamw_defaults());
  explicit AdamW(const std::vector<ParamGroup<AdamParams>>& groups);
  std::string name() const override { return "AdamW"; }
};

}  // namespace tg::optim

TG_API_END
