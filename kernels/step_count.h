// The optimizers' device-side step count (Note [device step count], update_common.h):
//   step_count ← step_count + 1, unless skip is set (a step skipped for a non-finite norm
//   is not counted). One element; run after a step's updates, which read the old count.
//
// Front-end: core/ops/step_count.cpp (advance_step_count_). Tests:
//   tests/unit/training_kernels_test.cpp (Clipping.*),
//   tests/cuda/training_kernels_parity_test.cpp
#pragma once

#include <cstdint>

#include "common.h"

namespace tg::kernels {

struct StepCountArgs {
  int64_t* step_count;  // () updates taken so far
  const uint8_t* skip;  // () non-zero: the step was skipped; null = never
};

TG_HOST_DEVICE void advance_step_count(const StepCountArgs& a) {
  if (a.skip == nullptr || *a.skip == 0) *a.step_count += 1;
}

namespace cpu {
void advance_step_count(const StepCountArgs& args);
}
namespace cuda {
void advance_step_count(const StepCountArgs& args, void* stream);
}

}  // namespace tg::kernels
