#include "tamegrad/optim/adagrad.h"

namespace tg::optim {

Adagrad::Adagrad(const std::vector<Tensor>& params, const AdagradParams& hyper)
    : Optimizer(params, {hyper.initial_accumulator}), hyper_(hyper) {
  TG_CHECK(hyper.lr >= 0 && hyper.lr_decay >= 0 && hyper.initial_accumulator >= 0 && hyper.eps >= 0,
           "Adagrad: lr, lr_decay, initial_accumulator and eps must be >= 0");
}

void Adagrad::update(ParamGroup& group, const ClipState* control) {
  adagrad_update_(group.params, group.grads, group.state[0], hyper_, group.step_count, control);
}

}  // namespace tg::optim
