// CPU launcher of the loss scaler's update (kernels/loss_scale.h).
#include "../loss_scale.h"

namespace tg::kernels::cpu {

void update_loss_scale(const LossScaleUpdateArgs& args) { kernels::update_loss_scale(args); }

}  // namespace tg::kernels::cpu
