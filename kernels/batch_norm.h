// Batch normalisation (Ioffe & Szegedy, ICML 2015) over (N, C, HW) contiguous data: NCHW
// with HW = H·W, and NC with HW = 1. Per channel c, over its count = N·HW elements:
//   training: mean, biased var of the batch; y = (x - mean)·invstd·γ + β, invstd = 1/sqrt(var +
//   eps);
//             running_mean ← (1-m)·running_mean + m·mean,
//             running_var  ← (1-m)·running_var  + m·var·count/(count-1)   (unbiased)
//   eval:     the same with the running statistics.
// Backward (xhat = (x - mean)·invstd):  dβ = Σ g,  dγ = Σ g·xhat,
//   training: dx = γ·invstd·(g - dβ/count - xhat·dγ/count);  eval: dx = γ·invstd·g.
// Accumulation in at least the data's precision (float for float32, double on the CPU);
// reductions are split into (channel, chunk) partials merged in a fixed order, so results
// are deterministic and a small C still spreads over every SM.
//
// Front-end: core/ops/batch_norm.cpp. Tests: the op table, tests/ops/op_cases_nn.cpp
//   (gradcheck: tests/ops/gradcheck_test.cpp; CUDA vs CPU:
//   tests/cuda/op_parity_test.cpp); the CPU's blocks (Note [batch norm blocks]):
//   tests/unit/batch_norm_blocks_test.cpp
#pragma once

#include <cmath>
#include <cstdint>

#include "common.h"
#include "elementwise.h"

namespace tg::kernels {

struct BatchNormShape {
  int64_t n, c, hw;
  TG_HOST_DEVICE int64_t count() const { return n * hw; }  // elements per channel
};

// Offset of the k-th element (k < n·hw) of channel c.
TG_HOST_DEVICE int64_t channel_element(const BatchNormShape& s, int64_t c, int64_t k) {
  return ((k / s.hw) * s.c + c) * s.hw + k % s.hw;
}

struct BatchNormForwardArgs {
  DType dtype;
  BatchNormShape shape;
  const void* x;      // (N, C, HW)
  const void* gamma;  // (C,) or null (γ = 1)
  const void* beta;   // (C,) or null (β = 0)
  void* y;            // (N, C, HW)
  bool training;
  void* running_mean;  // (C,): updated in training, read in eval; may be null in training
  void* running_var;   // (C,)
  void* save_mean;     // (C,): the mean used (written)
  void* save_invstd;   // (C,): the invstd used (written)
  double momentum;
  double eps;
  bool relu = false;  // y = relu(batch norm) (Note [batch norm + relu])
  // CPU only: with `pooled` set, y is max-pooled 2x2 with stride 2 as it is made (Note [batch
  // norm + relu + pool]): pooled (N, C, height / 2, width / 2) and argmax (max_pool2d's plane
  // positions) are written instead of y (which may be null); height · width = hw.
  void* pooled = nullptr;
  int64_t* argmax = nullptr;
  int64_t height = 0, width = 0;
  // CPU, float32, with relu and pooled (Note [conv block]): x in oneDNN's nChw16c layout
  // (C a multiple of 16); argmax is null, and window_codes (N·C·(height / 2)·(width / 2)
  // bytes, blocked like x) receives each window's code per channel: which of its four pixels
  // the backward sends the gradient to.
  bool blocked = false;
  uint8_t* window_codes = nullptr;
};

struct BatchNormBackwardArgs {
  DType dtype;
  BatchNormShape shape;
  const void* x;
  const void* grad_y;
  const void* gamma;   // (C,) or null
  const void* mean;    // (C,): save_mean of the forward
  const void* invstd;  // (C,): save_invstd of the forward
  bool training;
  void* grad_x;  // each of these may be null
  void* grad_gamma;
  void* grad_beta;
  // The forward was relu(batch norm) (Note [batch norm + relu]): its β ((C,) or null) lets
  // the backward recompute the normalised value whose sign gates g.
  bool relu = false;
  const void* beta = nullptr;
  // CPU only: the forward pooled its output (Note [batch norm + relu + pool]): grad_y is null
  // and the output gradient comes from the pooled output's, pooled_grad (N, C, height / 2,
  // width / 2), through the forward's argmax, a plane at a time, never stored whole.
  const void* pooled_grad = nullptr;
  const int64_t* argmax = nullptr;
  int64_t height = 0, width = 0;
  // The forward's x was blocked (Note [conv block]): so are x and grad_x here; argmax is null
  // and window_codes are the forward's.
  bool blocked = false;
  const uint8_t* window_codes = nullptr;
  // CPU, blocked: the channels' input-gradient terms (γ·invstd, Σg / count, Σg·x̂ / count: 3·C
  // floats), which batchnorm_backward writes when set and batchnorm_backward_samples reads.
  float* terms = nullptr;
};

// Chan et al.'s pairwise merge of (count, mean, M2) summaries.
template <typename A>
TG_HOST_DEVICE void merge_moments(A& count, A& mean, A& m2, A count_b, A mean_b, A m2_b) {
  const A total = count + count_b;
  if (total == A(0)) return;
  const A delta = mean_b - mean;
  mean = mean + delta * (count_b / total);
  m2 = m2 + m2_b + delta * delta * (count * count_b / total);
  count = total;
}

template <typename T>
TG_HOST_DEVICE T batchnorm_element(T x, T mean, T invstd, const T* gamma, const T* beta,
                                   int64_t c) {
  const T scaled = (x - mean) * invstd * (gamma != nullptr ? gamma[c] : T(1));
  return beta != nullptr ? scaled + beta[c] : scaled;
}

// Note [batch norm + relu]
// A BatchNorm directly followed by a ReLU (every block of the MNIST CNN) runs as one op
// (batch_norm_relu, which Sequential picks: Note [fused neighbours] in layers/sequential.h):
// the forward writes relu(y) instead of y for the ReLU to read and write again, and the
// backward gates g by y > 0 (ReLU's rule) where it reads g anyway. y is not kept: the
// backward recomputes it from x with the forward's own element function, so the gate has the
// forward's bits, and reads no more than the plain backward (x and g).
//
// Note [batch norm + relu + pool]
// When 2x2 max pooling (stride 2) follows as well (each block of the MNIST CNN), the CPU's
// forward pools two rows at a time as it makes them (kernels/cpu/pool_rows.h) and writes
// only the pooled output and its argmax: y itself, a full write and a full read, is never
// stored. The backward makes the pooling's gradient of one plane at a time in a thread's
// buffer (pool2d_backward's rule) where batch norm's passes read it, so that full-size
// gradient is never stored either. The values are those of the three ops, bit for bit: the
// same element functions, the same pooling rule, the same sums in the same lanes. CUDA runs
// the ops apart (core/ops/batch_norm.cpp).
//
// Note [conv block]
// oneDNN's convolutions work in a blocked layout, nChw16c: sample n's channels c..c+15 at
// pixel k are 16 neighbouring floats. A conv2d hands NCHW tensors in and out, so every pass
// reorders: the forward's y to NCHW, the output gradient to nChw16c for the data pass and
// again, per block of the batch, for the filter pass (13% of the MNIST CNN's CPU step). When a
// Conv2d, BatchNorm2d, ReLU and MaxPool2d(2) follow each other (each block of the CNN:
// Sequential picks conv2d_batch_norm_relu_max_pool2d, core/ops/conv2d_batch_norm.cpp), the
// convolution writes y blocked, batch norm + ReLU + pooling read it there and write the
// pooled output in NCHW, and the backward writes the convolution's output gradient blocked,
// where both of its passes read it. kernels/cpu/batch_norm_blocked.cpp computes every sum in
// the same double lanes and order as the NCHW passes (a channel's element k to lane k mod 8,
// samples in order), and the same element functions and pooling rule, 16 channels side by
// side: the values are those of the four ops apart, bit for bit. The forward keeps one byte
// per window and channel, its code: the position of the window's maximum, or none where the
// ReLU closed the gate (the maximum is not > 0). The backward reads the codes (a sixteenth of
// y's bytes) instead of finding the maxima again in both of its passes, which cost more than
// the rest of the passes together. The backward's last pass runs per block of 16 samples
// (the filter gradient's blocks, Note [onednn filter gradient]), each block on one thread:
// batch norm writes the block's output gradient into that thread's buffer of 16 samples and
// the convolution's data and filter passes read it there, in that core's cache
// (kernels::cpu::conv2d_backward_blocks, with batchnorm_backward_samples); the whole batch's
// output gradient is never stored. Neither pass sums across samples on another thread, so the
// bits are those of the whole-batch passes. When C_in is a multiple of 16 the op reorders x to
// nChw16c itself (the reorder the forward made anyway) and keeps that for the filter pass,
// whose blocks reordered their x again each.
// g as the batch norm's backward sees it: gated by the forward's ReLU when there was one.
template <typename T>
TG_HOST_DEVICE T relu_gated(T g, T x, T mean, T invstd, const T* gamma, const T* beta, int64_t c,
                            bool relu) {
  return !relu || batchnorm_element(x, mean, invstd, gamma, beta, c) > T(0) ? g : T(0);
}

// The input gradient from its channel's terms: scale = γ·invstd, mean_g = Σg / count and
// mean_g_xhat = Σg·x̂ / count (training; in evaluation only scale counts). Taking the channel's
// means rather than its sums leaves no division per element (the CPU computes the terms once
// per channel, the GPU per element, with the same bits).
template <typename T>
TG_HOST_DEVICE T batchnorm_backward_element(T g, T x, T mean, T invstd, T scale, T mean_g,
                                            T mean_g_xhat, bool training) {
  if (!training) return scale * g;
  const T xhat = (x - mean) * invstd;
  return scale * (g - mean_g - xhat * mean_g_xhat);
}

// Running statistics after one training batch of channel stats (biased var).
template <typename T>
TG_HOST_DEVICE void update_running(T* running_mean, T* running_var, T mean, T var, int64_t count,
                                   double momentum) {
  const T m = static_cast<T>(momentum);
  const T unbiased = count > 1 ? var * static_cast<T>(count) / static_cast<T>(count - 1) : var;
  *running_mean = (T(1) - m) * *running_mean + m * mean;
  *running_var = (T(1) - m) * *running_var + m * unbiased;
}

namespace cpu {
void batchnorm_forward(const BatchNormForwardArgs& args);
void batchnorm_backward(const BatchNormBackwardArgs& args);
// Blocked (Note [conv block]): grad_x of samples [n0, n1) alone into grad_x (n1 - n0 samples
// from its start; args.grad_x is not read), on the calling thread, from the terms a
// batchnorm_backward with args.terms set (and args.grad_x null) wrote, so that the
// convolution's passes read each block of it while it is in cache.
void batchnorm_backward_samples(const BatchNormBackwardArgs& args, int64_t n0, int64_t n1,
                                void* grad_x);
}  // namespace cpu
// `scratch` gives the per-chunk partial sums (Note [scratch memory], common.h).
namespace cuda {
void batchnorm_forward(const BatchNormForwardArgs& args, void* stream,
                       const ScratchAllocator& scratch);
void batchnorm_backward(const BatchNormBackwardArgs& args, void* stream,
                        const ScratchAllocator& scratch);
}  // namespace cuda

}  // namespace tg::kernels
