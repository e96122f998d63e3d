// Per-tensor statistics of a flat parameter group in one pass (kernels/param_stats.h: the
// squared gradient, weight and update norms of each tensor, and its count of zero gradient
// entries). The gradient telemetry (optim/telemetry.h) is built on it. Nothing here waits
// for the device.
#pragma once

#include <vector>

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

// The columns of a row of piece sums.
enum ParamStatColumn : int {
  kGradSquares = 0,  // Σ g²
  kWeightSquares,    // Σ w²
  kUpdateSquares,    // Σ (w − previous)²
  kZeroGrads,        // #{g == 0}
  kParamStatColumns
};

// How a flat buffer holding tensors of the given sizes, one after another, is cut into
// pieces (Note [stat pieces], kernels/param_stats.h).
struct ParamStatsLayout {
  Tensor pieces;               // (piece_count, 2) int64 on the buffers' device: [begin, end)
  std::vector<int64_t> first;  // tensor t owns pieces first[t] .. first[t + 1] - 1
  int64_t numel = 0;           // the buffers' size: the tensors' sizes added
  int64_t piece_count() const { return first.empty() ? 0 : first.back(); }
};
ParamStatsLayout param_stats_layout(const std::vector<int64_t>& sizes, const Device& device);

// Writes each piece's sums into `sums` ((piece_count, kParamStatColumns) float64 on the
// buffers' device, columns as above) and copies params into previous. params, grads
// and previous are contiguous 1-D buffers of one floating dtype, holding the layout's
// tensors.
void param_stats_(const Tensor& params, const Tensor& grads, const Tensor& previous,
                  const ParamStatsLayout& layout, const Tensor& sums);

}  // namespace tg

TG_API_END
