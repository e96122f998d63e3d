#include "tamegrad/optim/rmsprop.h"

namespace tg::optim {

namespace {
// State buffers: square_avg, then grad_avg (centered), then the momentum buffer.
std::vector<double> rmsprop_state(const RmspropParams& h) {
  std::vector<double> state{0.0};
  if (h.centered) state.push_back(0.0);
  if (h.momentum > 0) state.push_back(0.0);
  return state;
}
}  // namespace

RMSprop::RMSprop(const std::vector<Tensor>& params, const RmspropParams& hyper)
    : Optimizer(params, rmsprop_state(hyper)), hyper_(hyper) {
  TG_CHECK(hyper.lr >= 0 && hyper.alpha >= 0 && hyper.alpha <= 1 && hyper.eps >= 0 &&
               hyper.momentum >= 0,
           "RMSprop: need lr >= 0, alpha in [0, 1], eps >= 0, momentum >= 0");
}

void RMSprop::update(ParamGroup& group, const ClipState* control) {
  const Tensor grad_avg = hyper_.centered ? group.state[1] : Tensor();
  const Tensor buffer = hyper_.momentum > 0 ? group.state.back() : Tensor();
  rmsprop_update_(group.params, group.grads, group.state[0], grad_avg, buffer, hyper_, control);
}

}  // namespace tg::optim
