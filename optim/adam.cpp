#include "adam.h"

namespace tg::optim {

namespace {

void check_common(const char* name, const AdamParams& h) {
  TG_CHECK(h.lr >= 0 && h.eps >= 0 && h.beta1 >= 0 && h.beta1 < 1 && h.beta2 >= 0 && h.beta2 < 1,
           name, ": need lr >= 0, eps >= 0 and betas in [0, 1), got lr ", h.lr, ", eps ", h.eps,
           ", betas (", h.beta1, ", ", h.beta2, ")");
}

void check(const AdamParams& h) {
  check_common("Adam", h);
  TG_CHECK(h.regularization.decoupled_weight_decay == 0, "Adam: a decoupled weight decay (",
           h.regularization.decoupled_weight_decay,
           ") is AdamW's; use AdamW, or l2_penalty for Adam's coupled decay");
}

void check_adamw(const AdamParams& h) {
  check_common("AdamW", h);
  TG_CHECK(h.regularization.l2_penalty == 0, "AdamW: a coupled l2_penalty (",
           h.regularization.l2_penalty,
           ") contradicts AdamW's decoupled weight decay; use Adam for a coupled penalty");
  TG_CHECK(h.regularization.decoupled_weight_decay >= 0, "AdamW: weight_decay must be >= 0, got ",
           h.regularization.decoupled_weight_decay);
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

Adam::Adam(const std::vector<ParamGroup<AdamParams>>& groups, Check check)
    : OptimizerWith(groups, check, layout) {}

void Adam::update(FlatGroup& flat, const ClipState* control) {
  const AdamParams& h = hypers_[flat.group];
  adam_update_(flat.params, flat.grads, flat.state[0], flat.state[1],
               h.amsgrad ? flat.state[2] : Tensor(), h, flat.step_count, control);
}

AdamParams adam_params(const AdamWParams& w) {
  AdamParams p;
  p.lr = w.lr;
  p.beta1 = w.beta1;
  p.beta2 = w.beta2;
  p.eps = w.eps;
  p.amsgrad = w.amsgrad;
  p.regularization.decoupled_weight_decay = w.weight_decay;
  p.regularization.l1_penalty = w.l1_penalty;
  p.unit_clip = w.unit_clip;
  return p;
}

namespace {
std::vector<ParamGroup<AdamParams>> as_adam(const std::vector<ParamGroup<AdamWParams>>& groups) {
  std::vector<ParamGroup<AdamParams>> out;
  for (const auto& g : groups) out.push_back({g.params, adam_params(g.hyper)});
  return out;
}
}  // namespace

AdamW::AdamW(const std::vector<Tensor>& params, const AdamWParams& hyper)
    : AdamW(std::vector<ParamGroup<AdamWParams>>{{params, hyper}}) {}

AdamW::AdamW(const std::vector<ParamGroup<AdamWParams>>& groups)
    : Adam(as_adam(groups), check_adamw) {}

}  // namespace tg::optim
