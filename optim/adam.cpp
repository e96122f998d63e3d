#include "tamegrad/optim/adam.h"

namespace tg::optim {

namespace {

void check(const AdamParams& h) {
  TG_CHECK(h.lr >= 0 && h.eps >= 0 && h.beta1 >= 0 && h.beta1 < 1 && h.beta2 >= 0 && h.beta2 < 1,
           "Adam: need lr >= 0, eps >= 0 and betas in [0, 1), got lr ", h.lr, ", eps ", h.eps,
           ", betas (", h.beta1, ", ", h.beta2, ")");
}

std::vector<StateBuffer> layout(const AdamParams& h) {
  std::vector<StateBuffer> state{{"exp_avg", 0}, {"exp_avg_sq", 0}};
  if (h.amsgrad) state.push_back({"max_exp_avg_sq", 0});
  return state;
}

}  // namespace

Adam::Adam(const std::vector<Tensor>& params, const AdamParams& hyper)
    : Adam(std::vector<ParamGroup<AdamParams>>{{params, hyper}}) {}

Adam::Adam(const std::vector<ParamGroup<AdamParams>>& groups)
    : OptimizerWith(groups, check, layout) {}

void Adam::update(FlatGroup& flat, const ClipState* control) {
  const AdamParams& h = hypers_[flat.group];
  adam_update_(flat.params, flat.grads, flat.state[0], flat.state[1],
               h.amsgrad ? flat.state[2] : Tensor(), h, flat.step_count, control);
}

AdamParams adamw_defaults() {
  AdamParams p;
  p.regularization.decoupled_weight_decay = 0.01;
  return p;
}

AdamW::AdamW(const std::vector<Tensor>& params, const AdamParams& hyper) : Adam(params, hyper) {}

AdamW::AdamW(const std::vector<ParamGroup<AdamParams>>& groups) : Adam(groups) {}

}  // namespace tg::optim
