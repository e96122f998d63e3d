#include "adagrad.h"

namespace tg::optim {

namespace {

void check(const AdagradParams& h) {
  TG_CHECK(h.lr >= 0 && h.lr_decay >= 0 && h.initial_accumulator >= 0 && h.eps >= 0,
           "Adagrad: lr, lr_decay, initial_accumulator and eps must be >= 0, got ", h.lr, ", ",
           h.lr_decay, ", ", h.initial_accumulator, ", ", h.eps);
}

std::vector<StateBuffer> layout(const AdagradParams& h) { return {{"sum", h.initial_accumulator}}; }

}  // namespace

Adagrad::Adagrad(const std::vector<Tensor>& params, const AdagradParams& hyper)
    : Adagrad(std::vector<ParamGroup<AdagradParams>>{{params, hyper}}) {}

Adagrad::Adagrad(const std::vector<ParamGroup<AdagradParams>>& groups)
    : OptimizerWith(groups, check, layout) {}

void Adagrad::update(FlatGroup& flat, const ClipState* control) {
  adagrad_update_(flat.params, flat.grads, flat.state[0], hypers_[flat.group], flat.step_count,
                  control);
}

}  // namespace tg::optim
