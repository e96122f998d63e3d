// Row reductions: each of `outer` rows of `inner` contiguous elements reduces to one
// value (sum, max or min, with the index of the max/min). Front-ends permute the reduced
// dims to the end to get this layout. Deterministic on both devices: a fixed order of
// combination, no atomics.
//
// Front-end: core/ops/reduce.cpp. Tests: the op table, tests/ops/op_cases_math.cpp
//   (gradcheck: tests/ops/gradcheck_test.cpp; CUDA vs CPU:
//   tests/cuda/op_parity_test.cpp)
#pragma once

#include <cstdint>

#include "tamegrad/kernels/common.h"

namespace tg::kernels {

enum class ReduceOp : uint8_t { Sum, Max, Min };

struct ReduceArgs {
  ReduceOp op;
  DType dtype;  // float32 or float64
  int64_t outer;
  int64_t inner;     // > 0 for Max/Min
  const void* in;    // (outer, inner) contiguous
  void* out;         // (outer,)
  int64_t* indices;  // (outer,) for Max/Min: position of the first extreme in its row; or null
};

// Whether `candidate` (at a larger index) replaces `best` for Max/Min: NaN wins over
// numbers (and the first NaN stays), otherwise strictly better wins, so ties keep the
// first index.
template <typename T>
TG_HOST_DEVICE bool extreme_replaces(ReduceOp op, T candidate, T best) {
  if (best != best) return false;
  if (candidate != candidate) return true;
  return op == ReduceOp::Max ? candidate > best : candidate < best;
}

namespace cpu {
void reduce(const ReduceArgs& args);
}
namespace cuda {
void reduce(const ReduceArgs& args, void* stream);
}

}  // namespace tg::kernels
