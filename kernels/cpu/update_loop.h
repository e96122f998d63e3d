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

// Note [claiming the parameters' lines]
// An update writes every parameter that the forward has just read, and the forward's products
// read them on every thread (x·Wᵀ by blocks of rows: each thread reads all of W), so when the
// update starts each cache line of the parameters sits, shared, in the other core's cache too,
// and each store must first take it away from there. On this project's VM (2 vCPUs of an AMD
// EPYC) the host now and then runs the two vCPUs on different core complexes, whose caches are
// far apart: there the MLP's Adam took 0.9-1.2 ms a step instead of 0.2 (the same update on
// buffers only it touches: 0.12-0.17 ms), a third of the step; that was the MLP's "slow hours"
// (bench/NOTES.md, fourteenth session). Inside the update's loop the stores wait one line at a
// time behind its arithmetic; stores alone, one a line, take the lines over many at once: so
// each task first writes one byte of each of its parameters' lines back unchanged, then runs
// the update (slow phases 1.05 -> 0.36 ms; PREFETCHW ahead in the loop did nothing). The same
// bits: a byte stored as read, by the thread that owns the element.
template <typename T>
inline void claim_lines(T* params, int64_t first, int64_t last) {
  constexpr int64_t kPerLine = 64 / static_cast<int64_t>(sizeof(T));
  for (int64_t i = first; i < last; i += kPerLine) {
    volatile unsigned char* byte = reinterpret_cast<unsigned char*>(params + i);
    *byte = *byte;
  }
}

// range(first, last) over [0, n) in tasks of kUpdateTask, on the threads past the threshold;
// each task's lines of params claimed first (Note [claiming the parameters' lines]).
template <typename T, typename Range>
void update_tasks(int64_t n, T* params, const Range& range) {
  const int64_t tasks = (n + kUpdateTask - 1) / kUpdateTask;
#pragma omp parallel for schedule(static) if (n > kUpdateParallelAbove)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t first = t * kUpdateTask, last = std::min(n, (t + 1) * kUpdateTask);
    claim_lines(params, first, last);
    range(first, last);
  }
}

}  // namespace tg::kernels::cpu
