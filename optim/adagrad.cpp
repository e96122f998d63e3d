#include "optim/adagrad.h"

namespace tg::optim {

Adagrad::Adagrad(const std::vector<Tensor>& params, const AdagradParams& hyper)
    : Optimizer(params, {hyper.initial_accumulator}), hyper_(hyper) {
  TG_CHECK(hyper.lr >= 0 && hyper.lr_decay >= 0 && hyper.initial_accumulator >= 0 && hyper.eps >= 0,
           "Adagrad: lr, lr_decay, initial_accumulator and eps must be >= 0");
}

void Adagrad::update(ParamGroup& group, const ClipState* control) {
  // The decayed rate comes from the device step count (kernels::step_at).
  adagrad_update_(group.params, group.grads, group.state[0], kernels::AdagradStep{hyper_, hyper_.lr}, control,
                  group.step_count);
}

}  // namespace tg::optim
