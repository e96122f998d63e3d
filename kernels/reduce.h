// Row reductions: each of `outer` rows of `inner` contiguous elements reduces to one
// value (sum, max or min, with the index of the max/min). Front-ends permute the reduced
// dims to the end to get this layout, except for a sum over leading dims (column_sum).
// Deterministic on both devices: a fixed order of combination, no atomics.
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

// Sums over the leading dimension of a contiguous (rows, cols) matrix: out[j] = Σ_r in[r, j]
// (a bias gradient over a batch; any sum over the leading dims of a contiguous tensor),
// without transposing it into rows first. Each column adds its rows in order, in the same
// accumulator as the row sum, so on the CPU the two agree bit for bit.
struct ColumnSumArgs {
  DType dtype;  // float32 or float64
  int64_t rows, cols;
  const void* in;  // (rows, cols) contiguous
  void* out;       // (cols,)
};

namespace cpu {
void reduce(const ReduceArgs& args);
void column_sum(const ColumnSumArgs& args);
}  // namespace cpu
namespace cuda {
void reduce(const ReduceArgs& args, void* stream);
void column_sum(const ColumnSumArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
