// The shape of an elementwise iteration, shared by every strided launcher on both devices:
// N operands (operand 0 is the output) walked together over one shape, each with its own
// strides (elements; 0 broadcasts, negative walks backwards).
//
// Note [coalesced iteration]
// Before a launch the shape is coalesced: size-1 dimensions are dropped, and dimension d is
// merged into d + 1 when every operand steps across it exactly as if the two were one
// (stride[d] == stride[d + 1] · size[d + 1]). A contiguous tensor becomes one dimension, a
// bias broadcast over a batch (B, F) stays two with strides (F, 1) and (0, 1), a
// per-channel term over (N, C, H, W) becomes (N, C, H·W). The CPU then runs the innermost
// dimension as a tight loop with the index arithmetic done once per run
// (kernels/cpu/strided_loop.h), and the CUDA kernels divide once per remaining dimension
// instead of once per original one. Coalescing never changes which elements meet: only
// how their offsets are computed.
//
// Tests: tests/unit/strided_test.cpp
#pragma once

#include <cstdint>

#include "common.h"

namespace tg::kernels {

template <int N>
struct StridedLayout {
  int ndim = 1;                   // >= 1: a 0-d or all-size-1 shape is one dimension of 1
  int64_t sizes[kMaxDims] = {1};  // row-major order, the innermost last
  int64_t strides[N][kMaxDims] = {};
  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= sizes[d];
    return n;
  }
};

// The coalesced layout of `ndim` dimensions of `sizes`, operand k with strides[k].
template <int N>
StridedLayout<N> coalesce(int ndim, const int64_t* sizes, const int64_t* const (&strides)[N]) {
  StridedLayout<N> out;
  out.ndim = 0;
  for (int d = 0; d < ndim; ++d) {
    if (sizes[d] == 1) continue;
    if (out.ndim > 0) {
      // Merge into the previous kept dimension when every operand allows it.
      const int p = out.ndim - 1;
      bool mergeable = true;
      for (int k = 0; k < N; ++k) {
        mergeable = mergeable && out.strides[k][p] == strides[k][d] * sizes[d];
      }
      if (mergeable) {
        out.sizes[p] *= sizes[d];
        for (int k = 0; k < N; ++k) out.strides[k][p] = strides[k][d];
        continue;
      }
    }
    out.sizes[out.ndim] = sizes[d];
    for (int k = 0; k < N; ++k) out.strides[k][out.ndim] = strides[k][d];
    ++out.ndim;
  }
  if (out.ndim == 0 || out.numel() == 0) {
    // Nothing to walk apart from one element (or none): one dimension.
    const int64_t total = out.ndim == 0 ? 1 : 0;
    out.ndim = 1;
    out.sizes[0] = total;
    for (int k = 0; k < N; ++k) out.strides[k][0] = 1;
  }
  return out;
}

}  // namespace tg::kernels
