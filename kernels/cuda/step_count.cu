// CUDA launcher of the step-count advance (kernels/step_count.h); the CPU twin is
// kernels/cpu/step_count.cpp. One thread: the count stays on the device, so a step (and a
// replayed CUDA graph of it) never waits for the host.
#include "../step_count.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {
__global__ void step_count_kernel(StepCountArgs args) { kernels::advance_step_count(args); }
}  // namespace

void advance_step_count(const StepCountArgs& args, void* stream) {
  step_count_kernel<<<1, 1, 0, as_stream(stream)>>>(args);
  TG_CUDA_CHECK_LAUNCH();
}

}  // namespace tg::kernels::cuda
