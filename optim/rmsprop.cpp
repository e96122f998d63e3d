#include "rmsprop.h"

namespace tg::optim {

namespace {

void check(const RMSpropParams& h) {
  TG_CHECK(h.lr >= 0 && h.alpha >= 0 && h.alpha <= 1 && h.eps >= 0 && h.momentum >= 0,
           "RMSprop: need lr >= 0, alpha in [0, 1], eps >= 0, momentum >= 0, got lr ", h.lr,
           ", alpha ", h.alpha, ", eps ", h.eps, ", momentum ", h.momentum);
}

// square_avg, then grad_avg (centered), then the momentum buffer.
std::vector<StateBuffer> layout(const RMSpropParams& h) {
  std::vector<StateBuffer> state{{"square_avg", 0}};
  if (h.centered) state.push_back({"grad_avg", 0});
  if (h.momentum > 0) state.push_back({"momentum_buffer", 0});
  return state;
}

}  // namespace

RMSprop::RMSprop(const std::vector<Tensor>& params, const RMSpropParams& hyper)
    : RMSprop(std::vector<ParamGroup<RMSpropParams>>{{params, hyper}}) {}

RMSprop::RMSprop(const std::vector<ParamGroup<RMSpropParams>>& groups)
    : OptimizerWith(groups, check, layout) {}

void RMSprop::update(FlatGroup& flat, const ClipState* control) {
  const RMSpropParams& h = hypers_[flat.group];
  const Tensor grad_avg = h.centered ? flat.state[1] : Tensor();
  const Tensor buffer = h.momentum > 0 ? flat.state.back() : Tensor();
  rmsprop_update_(flat.params, flat.grads, flat.state[0], grad_avg, buffer, h, control);
}

}  // namespace tg::optim
