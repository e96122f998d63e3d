// The CPU side of Note [coalesced iteration] (kernels/strided.h): walks a coalesced layout
// as runs along its innermost dimension, so a kernel's inner loop is a plain loop over
// `count` elements with one stride per operand, and the index arithmetic (divisions) happens
// once per thread, not once per element.
//
// Tests: tests/unit/strided_test.cpp
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "../strided.h"

namespace tg::kernels::cpu {

// Below this many elements a loop runs on the calling thread: starting OpenMP's team costs
// more than the work.
constexpr int64_t kParallelAbove = 1 << 15;

// Calls run(offsets, count) for consecutive runs covering every element of `layout` once:
// offsets[k] is operand k's offset (elements) of the run's first element, and the run's
// elements are count steps of layout.strides[k][layout.ndim - 1]. Elements are split into
// one contiguous range per OpenMP thread; each thread finds its start with one division per
// dimension and then advances like an odometer.
template <int N, typename Run>
void for_each_run(const StridedLayout<N>& layout, Run&& run) {
  const int64_t numel = layout.numel();
  if (numel == 0) return;
  const int inner = layout.ndim - 1;
  const int64_t inner_size = layout.sizes[inner];
  auto walk = [&](int64_t begin, int64_t end) {
    int64_t index[kMaxDims];
    int64_t offsets[N] = {};
    int64_t rest = begin;
    for (int d = inner; d >= 0; --d) {
      index[d] = rest % layout.sizes[d];
      rest /= layout.sizes[d];
      for (int k = 0; k < N; ++k) offsets[k] += index[d] * layout.strides[k][d];
    }
    for (int64_t pos = begin; pos < end;) {
      const int64_t count = std::min(inner_size - index[inner], end - pos);
      run(static_cast<const int64_t*>(offsets), count);
      pos += count;
      index[inner] += count;
      for (int k = 0; k < N; ++k) offsets[k] += count * layout.strides[k][inner];
      // Carry into the outer dimensions.
      for (int d = inner; d > 0 && index[d] == layout.sizes[d]; --d) {
        index[d] = 0;
        ++index[d - 1];
        for (int k = 0; k < N; ++k) {
          offsets[k] += layout.strides[k][d - 1] - layout.sizes[d] * layout.strides[k][d];
        }
      }
    }
  };
  if (numel <= kParallelAbove || omp_get_max_threads() == 1 || omp_in_parallel()) {
    walk(0, numel);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    walk(numel * t / threads, numel * (t + 1) / threads);
  }
}

}  // namespace tg::kernels::cpu
