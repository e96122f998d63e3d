// What every CUDA optimizer update shares (CUDA launchers only): the step control read
// once per thread (Note [step control]) and the grid-stride walk, one element per thread
// per step so loads and stores stay coalesced.
#pragma once

#include "kernels/cuda/launch.h"
#include "kernels/update_common.h"

namespace tg::kernels::cuda {

// Returns false when the step is to be skipped; else sets *scale.
template <typename T>
__device__ __forceinline__ bool step_enabled(const StepControl& control, T* scale) {
  if (control.skip != nullptr && *control.skip != 0) return false;
  *scale = control.grad_scale != nullptr ? static_cast<T>(*control.grad_scale) : T(1);
  return true;
}

#define TG_FOR_EACH_PARAMETER(i, n)                                                        \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

}  // namespace tg::kernels::cuda
