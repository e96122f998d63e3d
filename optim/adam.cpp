#include "tamegrad/optim/adam.h"

namespace tg::optim {

Adam::Adam(const std::vector<Tensor>& params, const AdamParams& hyper)
    : Optimizer(params, hyper.amsgrad ? std::vector<double>{0, 0, 0} : std::vector<double>{0, 0}),
      hyper_(hyper) {
  TG_CHECK(hyper.lr >= 0 && hyper.eps >= 0 && hyper.beta1 >= 0 && hyper.beta1 < 1 &&
               hyper.beta2 >= 0 && hyper.beta2 < 1,
           "Adam: need lr >= 0, eps >= 0 and betas in [0, 1), got lr ", hyper.lr, ", betas (",
           hyper.beta1, ", ", hyper.beta2, ")");
}

void Adam::update(ParamGroup& group, const ClipState* control) {
  adam_update_(group.params, group.grads, group.state[0], group.state[1],
               hyper_.amsgrad ? group.state[2] : Tensor(), hyper_, group.step_count, control);
}

AdamParams adamw_defaults() {
  AdamParams p;
  p.regularization.decoupled_weight_decay = 0.01;
  return p;
}

AdamW::AdamW(const std::vector<Tensor>& params, const AdamParams& hyper) : Adam(params, hyper) {}

}  // namespace tg::optim
