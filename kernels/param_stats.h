// Per-tensor statistics of a flat parameter group, in one pass over its buffers (the
// gradient telemetry, optim/telemetry.h). For each parameter tensor, a range [begin, end)
// of the group's flat buffers, the pass takes
//   Σ g²          its gradient's squared L2 norm
//   Σ w²          its weights' squared L2 norm
//   Σ (w − w₀)²   the squared norm of its change since the previous pass (w₀: `previous`)
//   #{g == 0}     gradient entries that are exactly zero (a ReLU unit that was inactive for
//                 the whole batch passes no gradient to its weights and bias)
// and sets w₀ ← w, so that the next pass measures the next update. Non-finite gradients
// make Σ g² non-finite: that is how the telemetry tells which tensor holds them.
//
// Note [stat pieces]
// Tensors are cut into pieces of at most norm_chunk(n) elements (n: the group's size, so a
// group has about a thousand pieces or fewer, kernels/grad_norm.h) and every piece writes
// its four sums to its own row of `sums`; the host adds a tensor's rows in order when it
// reads them back. The cut depends on the sizes alone, so reruns repeat bit for bit, no
// float atomics are needed, and the rows are few enough to copy back every step.
//
// Front-end: core/ops/param_stats.cpp. Tests: tests/unit/telemetry_test.cpp,
// tests/cuda/telemetry_parity_test.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "common.h"
#include "grad_norm.h"

namespace tg::kernels {

// The columns of a row of sums.
enum StatColumn : int {
  kGradSquares = 0,
  kWeightSquares,
  kUpdateSquares,
  kZeroGrads,
  kStatColumns
};

struct ParamStatsArgs {
  DType dtype;
  const void* params;     // (n,)
  const void* grads;      // (n,)
  void* previous;         // (n,): the weights at the previous pass; overwritten with params
  const int64_t* pieces;  // (piece_count, 2): [begin, end) of each piece, on the device
  int64_t piece_count;
  double* sums;  // (piece_count, kStatColumns)
};

// The pieces of tensors of `sizes` laid out one after another: [begin, end) pairs, and in
// *first the index of each tensor's first piece (sizes.size() + 1 entries, the last one the
// piece count), so tensor t owns pieces first[t] .. first[t + 1] - 1.
inline std::vector<int64_t> stat_pieces(const std::vector<int64_t>& sizes,
                                        std::vector<int64_t>* first) {
  int64_t n = 0;
  for (int64_t size : sizes) n += size;
  const int64_t length = norm_chunk(n);
  std::vector<int64_t> pieces;
  first->assign(1, 0);
  int64_t begin = 0;
  for (int64_t size : sizes) {
    for (int64_t at = 0; at < size; at += length) {
      pieces.push_back(begin + at);
      pieces.push_back(begin + (at + length < size ? at + length : size));
    }
    begin += size;
    first->push_back(static_cast<int64_t>(pieces.size() / 2));
  }
  return pieces;
}

// One element's share of the four sums (both launchers).
struct StatSums {
  double grad = 0, weight = 0, update = 0, zeros = 0;
};
template <typename T>
TG_HOST_DEVICE void add_element_stats(T g, T w, T w0, StatSums& s) {
  const double gd = static_cast<double>(g), wd = static_cast<double>(w);
  const double ud = static_cast<double>(w) - static_cast<double>(w0);
  s.grad += gd * gd;
  s.weight += wd * wd;
  s.update += ud * ud;
  s.zeros += g == T(0) ? 1.0 : 0.0;
}

namespace cpu {
void param_stats(const ParamStatsArgs& args);
}  // namespace cpu
namespace cuda {
void param_stats(const ParamStatsArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
