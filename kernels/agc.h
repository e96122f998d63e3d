// Adaptive gradient clipping, unit-wise (Brock et al. 2021, "High-Performance Large-Scale
// Image Recognition Without Normalization", the NFNets paper), over a flat parameter
// buffer cut into units: for each unit u (an output unit's row of a weight, or a whole
// vector: optimizer.cpp's unit_starts),
//   max_u = λ · max(‖w_u‖, eps)
//   g_u  ← ‖g_u‖ < max_u ? g_u : g_u · max_u / max(‖g_u‖, 1e-6)
// as timm's adaptive_clip_grad (the PyTorch reference). A unit whose gradient is NaN or
// infinite stays so (its factor is NaN): the global norm's non-finite skip still sees it.
// One pass: each unit's weights and gradients are read once for the two norms (float64
// sums), its gradients again to scale them (from cache: a unit is one weight row).
//
// Front-end: core/ops/grad_norm.cpp (unit_clip_). Tests: tests/unit/clipping_test.cpp
// (against a naive reference), tests/golden/clip_golden_test.cpp (PyTorch),
// tests/cuda/clipping_parity_test.cpp.
#pragma once

#include <cmath>
#include <cstdint>

#include "common.h"

namespace tg::kernels {

struct UnitClipArgs {
  DType dtype;
  int64_t units;
  const int64_t* unit_starts;  // (units + 1,) ascending offsets into the buffers, on the device
  const void* params;          // the flat buffers
  void* grads;
  double lambda;  // > 0
  double eps;     // > 0
};

// The factor a unit's gradient is scaled by, from the squared norms of its weights and of
// its gradient: both launchers use it, so they agree to the bit.
TG_HOST_DEVICE double unit_clip_factor(double weight_squares, double grad_squares, double lambda,
                                       double eps) {
  const double w = std::sqrt(weight_squares), g = std::sqrt(grad_squares);
  const double max_norm = lambda * (w > eps ? w : eps);
  if (g < max_norm) return 1.0;
  return max_norm / (g > 1e-6 ? g : 1e-6);  // NaN for a NaN norm, as in the reference
}

namespace cpu {
void unit_clip(const UnitClipArgs& args);
}  // namespace cpu
namespace cuda {
void unit_clip(const UnitClipArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
