// Adam and AdamW (kernels/adam.h has the formula). They differ only in regularisation:
// Adam's classic weight decay is the coupled L2 penalty, AdamW's is decoupled
// (Note [regularisation names], kernels/update_common.h). Each refuses the other's:
// Adam a decoupled decay, AdamW a coupled L2 penalty. AMSGrad is an option of both.
#pragma once

#include "../foundation/config.h"
#include "optimizer.h"

TG_API_BEGIN

namespace tg::optim {

class Adam : public OptimizerWith<AdamParams> {
 public:
  // One group of parameters, or several with their own hyperparameters.
  Adam(const std::vector<Tensor>& params, const AdamParams& hyper = {});
  explicit Adam(const std::vector<ParamGroup<AdamParams>>& groups);
  std::string name() const override { return "Adam"; }

 protected:
  Adam(const std::vector<ParamGroup<AdamParams>>& groups, Check check);
  void update(FlatGroup& flat, const ClipState* control) override;
};

// AdamParams of AdamWParams: weight_decay becomes the decoupled decay.
AdamParams adam_params(const AdamWParams& hyper);

class AdamW : public Adam {
 public:
  AdamW(const std::vector<Tensor>& params, const AdamWParams& hyper = {});
  explicit AdamW(const std::vector<ParamGroup<AdamWParams>>& groups);
  // AdamParams' decay defaults to 0, not AdamW's 0.01: take AdamWParams.
  AdamW(const std::vector<Tensor>& params, const AdamParams& hyper) = delete;
  std::string name() const override { return "AdamW"; }
};

}  // namespace tg::optim

TG_API_END
