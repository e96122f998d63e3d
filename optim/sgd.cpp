#include "sgd.h"

namespace tg::optim {

namespace {

void check(const SGDParams& h) {
  TG_CHECK(h.lr >= 0 && h.momentum >= 0 && h.dampening >= 0,
           "SGD: need lr, momentum and dampening >= 0, got lr ", h.lr, ", momentum ", h.momentum,
           ", dampening ", h.dampening);
  TG_CHECK(!h.nesterov || (h.momentum > 0 && h.dampening == 0),
           "SGD: Nesterov momentum needs momentum > 0 and zero dampening, got momentum ",
           h.momentum, ", dampening ", h.dampening);
}

std::vector<StateBuffer> layout(const SGDParams& h) {
  if (h.momentum == 0) return {};
  return {{"momentum_buffer", 0}};
}

}  // namespace

SGD::SGD(const std::vector<Tensor>& params, const SGDParams& hyper)
    : SGD(std::vector<ParamGroup<SGDParams>>{{params, hyper}}) {}

SGD::SGD(const std::vector<ParamGroup<SGDParams>>& groups) : OptimizerWith(groups, check, layout) {}

void SGD::update(FlatGroup& flat, const ClipState* control) {
  sgd_update_(flat.params, flat.grads, flat.state.empty() ? Tensor() : flat.state[0],
              hypers_[flat.group], flat.step_count, control);
}

}  // namespace tg::optim
