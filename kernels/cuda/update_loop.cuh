// What every CUDA optimizer update shares (CUDA launchers only; step_enabled is in
// kernels/update_common.h): the per-step constants shared by a block
// (Note [device step count]) and the grid-stride walk, four elements per thread per step
// in 16-byte vectors where the buffers are aligned.
#pragma once

#include <type_traits>

#include "../update_common.h"
#include "launch.h"
#include "vector_access.cuh"

namespace tg::kernels::cuda {

// launch_step (kernels/update_common.h) computed by one thread and shared with the block:
// the step count is read and the bias corrections' pow evaluated once per block, not per
// thread. Every thread of the block must call it (it synchronises them).
template <typename Step>
__device__ __forceinline__ Step block_step(const Step& given, const StepControl& control) {
  if (control.step_count == nullptr) return given;
  __shared__ alignas(Step) unsigned char storage[sizeof(Step)];
  Step* shared = reinterpret_cast<Step*>(storage);
  if (threadIdx.x == 0) *shared = launch_step(given, control);
  __syncthreads();
  return *shared;
}

// Walks the elements [0, n) over the grid. With kFour, each step of a thread takes four
// consecutive elements as whole 16-byte vectors (every pointer the body touches must be
// 16-byte aligned: aligned_for_four), so a warp's loads and stores cover whole sectors;
// the last n % 4 elements, and every element without kFour, go one at a time.
// body(width, i) handles elements i .. i + width - 1, width an integral_constant (4 or 1).
template <bool kFour, typename Body>
__device__ __forceinline__ void for_each_element(int64_t n, Body body) {
  const int64_t thread = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t first = 0;
  if (kFour) {
    for (int64_t k = thread; k < n / 4; k += stride) body(std::integral_constant<int, 4>{}, 4 * k);
    first = n / 4 * 4;
  }
  for (int64_t i = first + thread; i < n; i += stride) body(std::integral_constant<int, 1>{}, i);
}

// Blocks for for_each_element<kFour>(n).
inline unsigned grid_for_elements(int64_t n, bool four) { return grid_for(four ? (n + 3) / 4 : n); }

}  // namespace tg::kernels::cuda
