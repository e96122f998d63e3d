// What every CPU optimizer update shares (CPU launchers only): the step control
// (Note [step control], kernels/update_common.h) and the threading threshold. Each
// launcher writes its own loop over local __restrict__ pointers, because a loop body
// reached through a lambda keeps reloading its captured pointers and does not vectorise.
#pragma once

#include "kernels/update_common.h"

namespace tg::kernels::cpu {

constexpr int64_t kUpdateParallelAbove = 1 << 15;

// False when the step is to be skipped; else sets *scale to the gradient scale.
template <typename T>
bool step_enabled(const StepControl& control, T* scale) {
  if (control.skip != nullptr && *control.skip != 0) return false;
  *scale = control.grad_scale != nullptr ? static_cast<T>(*control.grad_scale) : T(1);
  return true;
}

}  // namespace tg::kernels::cpu
