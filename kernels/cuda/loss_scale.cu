// CUDA launcher of the loss scaler's update (kernels/loss_scale.h); the CPU twin is
// kernels/cpu/loss_scale.cpp. One thread: the scale stays on the device, so a step never
// waits for the host.
#include "../loss_scale.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {
__global__ void loss_scale_kernel(LossScaleUpdateArgs args) { kernels::update_loss_scale(args); }
}  // namespace

void update_loss_scale(const LossScaleUpdateArgs& args, void* stream) {
  loss_scale_kernel<<<1, 1, 0, as_stream(stream)>>>(args);
  TG_CUDA_CHECK_LAUNCH();
}

}  // namespace tg::kernels::cuda
