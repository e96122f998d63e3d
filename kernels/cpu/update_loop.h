// What every CPU optimizer update shares (CPU launchers only; the step control,
// step_enabled, is in kernels/update_common.h): the threading threshold and the split into
// tasks. Each launcher writes its own loop over local __restrict__ pointers, because a loop
// body reached through a lambda keeps reloading its captured pointers and does not
// vectorise; that loop sits in a function compiled per x86-64 level (isa_clones.h): the
// updates with a square root and a division per element are bound by them, and the SSE2
// baseline issued them 4 lanes at a time (bench/NOTES.md, Adam's loop per x86-64 level).
#pragma once

#include <algorithm>

#include "../update_common.h"
#include "isa_clones.h"

namespace tg::kernels::cpu {

constexpr int64_t kUpdateParallelAbove = 1 << 15;
constexpr int64_t kUpdateTask = 4096;  // elements per OpenMP task

// range(first, last) over [0, n) in tasks of kUpdateTask, on the threads past the threshold.
template <typename Range>
void update_tasks(int64_t n, const Range& range) {
  const int64_t tasks = (n + kUpdateTask - 1) / kUpdateTask;
#pragma omp parallel for schedule(static) if (n > kUpdateParallelAbove)
  for (int64_t t = 0; t < tasks; ++t) range(t * kUpdateTask, std::min(n, (t + 1) * kUpdateTask));
}

}  // namespace tg::kernels::cpu
