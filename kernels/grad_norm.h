// Global L2 norm of gradients and the clip coefficient, deterministic and without a host
// round trip (Pascanu et al., "On the difficulty of training RNNs", 2013):
//   stage 1  partial sums of squares, one per fixed chunk of each buffer (float64);
//   stage 2  the partials of every buffer added in order, and written out:
//            norm = sqrt(Σ), scale = min(1, max_norm / (norm + 1e-6)) and, for a non-finite
//            norm, skip = 1 (Note [step control], kernels/update_common.h).
// Stage 2 runs inside the last buffer's stage-1 call (on the GPU, in its last block to
// finish: Note [last block finishes], kernels/cuda/grad_norm.cu), so a clipped step costs
// one launch per buffer more than an unclipped one, not two.
// The partition depends only on the sizes, so reruns give the same bits; no float atomics
// (the GPU may partition differently from the CPU: the two agree to rounding).
//
// Front-end: core/ops/grad_norm.cpp (global_grad_norm_). Tests:
//   tests/unit/training_kernels_test.cpp, tests/cuda/training_kernels_parity_test.cpp
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "common.h"

namespace tg::kernels {

// Elements per stage-1 partial: a multiple of 4096 that keeps a buffer at about 1024
// partials or fewer (one GPU block each: ~8 per SM of an H100 for large buffers, and the
// second stage stays short). A function of n alone, so the sums repeat bit for bit.
inline int64_t norm_chunk(int64_t n) {
  constexpr int64_t kGranule = 1 << 12, kTargetPartials = 1 << 10;
  const int64_t wanted = (n + kTargetPartials - 1) / kTargetPartials;
  return std::max<int64_t>(kGranule, (wanted + kGranule - 1) / kGranule * kGranule);
}

inline int64_t norm_partials(int64_t n) { return (n + norm_chunk(n) - 1) / norm_chunk(n); }

struct ClipFinalizeArgs {
  const double* partials;  // every buffer's partials, one after another
  int64_t count;
  double max_norm;  // <= 0: no clipping (scale stays 1), the norm is still taken
  double* norm;     // (1,) float64 whatever the gradients' dtype (Note [clip scalars])
  double* scale;    // (1,)
  uint8_t* skip;    // (1,)
  // A loss scaler's scale, which the gradients carry (Note [loss scaling]): the norm is
  // that of the gradients divided by it. Null: 1.
  const float* loss_scale = nullptr;
};

struct NormPartialsArgs {
  DType dtype;
  int64_t n;
  const void* grads;  // (n,)
  double* partials;   // (norm_partials(n),): Σ g² over each part of the buffer
  // Set on the call for the last buffer only: once its partials are written, stage 2 runs
  // over finish.count partials (every buffer's, one after another, ending with this one's).
  bool finishes = false;
  ClipFinalizeArgs finish{};
  // GPU only, with `finishes`: a counter of the launch's blocks that are done; 0 before
  // the call, and left 0 after it.
  unsigned long long* arrivals = nullptr;
};

// Note [clip scalars]
// The norm and the clip coefficient are float64 device scalars for every gradient dtype,
// computed as PyTorch does (coefficient = max_norm / (norm + 1e-6), clamped to 1): a float64
// parameter group is then scaled by the exact coefficient (a float32 one rounded it and
// drifted from PyTorch by ~1e-8 per step), and a float32 group reads the same value
// rounded once to float, as before.
// Shared by both finishing stages.
TG_HOST_DEVICE void finish_clip(double sum_of_squares, const ClipFinalizeArgs& a) {
  double norm = std::sqrt(sum_of_squares);
  if (a.loss_scale != nullptr) norm /= static_cast<double>(*a.loss_scale);
  const bool finite = norm == norm && norm < HUGE_VAL;
  *a.norm = norm;
  *a.skip = finite ? 0 : 1;
  double scale = 1.0;
  if (finite && a.max_norm > 0) {
    const double c = a.max_norm / (norm + 1e-6);
    scale = c < 1.0 ? c : 1.0;
  }
  *a.scale = scale;
}

namespace cpu {
void norm_partials(const NormPartialsArgs& args);
}  // namespace cpu
namespace cuda {
void norm_partials(const NormPartialsArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
