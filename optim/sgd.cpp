#include "tamegrad/optim/sgd.h"

namespace tg::optim {

SGD::SGD(const std::vector<Tensor>& params, const SgdParams& hyper)
    : Optimizer(params, hyper.momentum != 0 ? std::vector<double>{0.0} : std::vector<double>{}),
      hyper_(hyper) {
  TG_CHECK(hyper.lr >= 0 && hyper.momentum >= 0, "SGD: need lr >= 0 and momentum >= 0");
  TG_CHECK(!hyper.nesterov || (hyper.momentum > 0 && hyper.dampening == 0),
           "SGD: Nesterov momentum needs momentum > 0 and zero dampening");
}

void SGD::update(ParamGroup& group, const ClipState* control) {
  sgd_update_(group.params, group.grads, group.state.empty() ? Tensor() : group.state[0], hyper_,
              group.step_count, control);
}

}  // namespace tg::optim
