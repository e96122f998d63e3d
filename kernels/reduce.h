// Row reductions: each of `outer` rows of `inner` contiguous elements reduces to one
// value (sum, max or min, with the index of the max/min). Front-ends permute the reduced
// dims to the end to get this layout, except for a sum over leading dims (column_sum).
// Deterministic on both devices: a fixed order of combination, no atomics. A few long rows
// are cut into chunks (Note [long rows]).
//
// Front-end: core/ops/reduce.cpp. Tests: the op table, tests/ops/op_cases_math.cpp
//   (gradcheck: tests/ops/gradcheck_test.cpp; CUDA vs CPU:
//   tests/cuda/op_parity_test.cpp)
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "common.h"

namespace tg::kernels {

enum class ReduceOp : uint8_t { Sum, Max, Min };

struct ReduceArgs {
  ReduceOp op;
  DType dtype;  // float32, float64 or int64
  int64_t outer;
  int64_t inner;     // > 0 for Max/Min
  const void* in;    // (outer, inner) contiguous
  void* out;         // (outer,)
  int64_t* indices;  // (outer,) for Max/Min: position of the first extreme in its row; or null
};

// The dtypes the reductions take: float32, float64 and int64 (int64 sums wrap around, as
// PyTorch's do; front-ends widen uint8 to int64).
template <typename F>
void visit_reduce_dtype(DType dtype, F&& f) {
  if (dtype == DType::Int64) {
    f(int64_t{});
    return;
  }
  visit_float_dtype(dtype, f);
}

// Sums accumulate in double on the CPU for floating types; integers in uint64, whose
// wrap-around is defined (a signed overflow would not be).
template <typename T>
using SumAccumulator = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;

// a + b, wrapping for integers.
template <typename T>
TG_HOST_DEVICE T reduce_add(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  } else {
    return a + b;
  }
}

// Whether `candidate` (at a larger index) replaces `best` for Max/Min: NaN wins over
// numbers (and the first NaN stays), otherwise strictly better wins, so ties keep the
// first index.
template <typename T>
TG_HOST_DEVICE bool extreme_replaces(ReduceOp op, T candidate, T best) {
  if (best != best) return false;
  if (candidate != candidate) return true;
  return op == ReduceOp::Max ? candidate > best : candidate < best;
}

// Whether the extreme `other` at `other_position` beats `mine` at `my_position`, for two
// parts of one row met in any order (a position < 0: the part had no element): NaN first,
// then the better value, then the lower index. For parts met in row order it is
// extreme_replaces.
template <typename T>
TG_HOST_DEVICE bool extreme_wins(ReduceOp op, T other, int64_t other_position, T mine,
                                 int64_t my_position) {
  if (other_position < 0) return false;
  if (my_position < 0) return true;
  return extreme_replaces(op, other, mine) ||
         (other_position < my_position && !extreme_replaces(op, mine, other));
}

// Note [long rows]
// One row is one block on a GPU (one loop iteration on the CPU), so a few long rows (a full
// sum(x) or max() of a big tensor) would run on a few SMs (cores). When there are fewer
// than kReduceWideRows rows of at least 2 * kReduceChunk elements, each row is cut into
// chunks: every chunk reduces to a partial (its sum, or its extreme and that extreme's
// index in the row), each on its own block (iteration), and the row's partials are then
// folded in chunk order. The cut depends on the shape alone, so the result has the same
// bits whatever the thread count, run after run; the extremes keep the single-pass rule
// (NaN first, then the first index). At most about kReduceMaxPartials partials in all.
constexpr int64_t kReduceChunk = 8192;
constexpr int64_t kReduceWideRows = 256;
constexpr int64_t kReduceMaxPartials = 1024;

struct ReduceChunks {
  int64_t count;   // chunks per row (1: rows are not cut)
  int64_t length;  // elements per chunk; the last chunk of a row may be shorter, none is empty
};

inline ReduceChunks reduce_chunks(int64_t outer, int64_t inner) {
  if (outer <= 0 || outer >= kReduceWideRows || inner < 2 * kReduceChunk) return {1, inner};
  const int64_t wanted = std::min((inner + kReduceChunk - 1) / kReduceChunk,
                                  std::max<int64_t>(kReduceMaxPartials / outer, 2));
  const int64_t length = (inner + wanted - 1) / wanted;
  return {(inner + length - 1) / length, length};
}

// Sums over the leading dimension of a contiguous (rows, cols) matrix: out[j] = Σ_r in[r, j]
// (a bias gradient over a batch; any sum over the leading dims of a contiguous tensor),
// without transposing it into rows first. Each column adds its rows in order, in the row
// sum's accumulator type (double on the CPU, T on a GPU).
struct ColumnSumArgs {
  DType dtype;  // float32, float64 or int64
  int64_t rows, cols;
  const void* in;  // (rows, cols) contiguous
  void* out;       // (cols,)
};

namespace cpu {
void reduce(const ReduceArgs& args);
void column_sum(const ColumnSumArgs& args);
}  // namespace cpu
namespace cuda {
// Long rows take scratch memory for their partials (Note [long rows]).
void reduce(const ReduceArgs& args, void* stream, const ScratchAllocator& scratch);
void column_sum(const ColumnSumArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
