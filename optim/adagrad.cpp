#include "optim/adagrad.h"

namespace tg::optim {

Adagrad::Adagrad(const std::vector<Tensor>& params, const AdagradParams& hyper)
    : Optimizer(params, {hyper.initial_accumulator}), hyper_(hyper) {
  TG_CHECK(hyper.lr >= 0 && hyper.lr_decay >= 0 && hyper.initial_accumulator >= 0 && hyper.eps >= 0,
           "Adagrad: lr, lr_decay, initial_accumulator and eps must be >= 0");
}

void Adagrad::update(ParamGroup& group, const ClipState* control) {
  const double clr = hyper_.lr / (1.0 + static_cast<double>(steps() - 1) * hyper_.lr_decay);
  adagrad_update_(group.params, group.grads, group.state[0], kernels::AdagradStep{hyper_, clr}, control);
}

}  // namespace tg::optim
