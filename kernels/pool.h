// 2-D max and average pooling over (planes = N·C, H, W). Output size (front-end):
//   out = floor((in + 2·pad - dil·(kernel - 1) - 1) / stride) + 1, or with ceil_mode the
//   ceiling, less one when the last window would start past the input and left padding
//   (PyTorch's rule). Dilation is max pooling's only.
// Max pooling records, per output, the flat position h·W + w of its (first) maximum; NaN
// counts as the maximum. Average pooling divides by the window clipped to the padded
// input (count_include_pad, PyTorch's default) or to the input itself. Backward passes are in
// gather form: each input element sums the outputs whose windows cover it, so no atomics are
// needed.
//
// Front-end: core/ops/pool.cpp. Tests: the op table, tests/ops/op_cases_nn.cpp
//   (gradcheck: tests/ops/gradcheck_test.cpp; CUDA vs CPU:
//   tests/cuda/op_parity_test.cpp), tests/golden/golden_test.cpp
#pragma once

#include <cstdint>

#include "common.h"

namespace tg::kernels {

struct Pool2dArgs {
  DType dtype;
  int64_t planes, in_h, in_w, out_h, out_w;  // out_* may come from ceil_mode (front-end)
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  int64_t dil_h = 1, dil_w = 1;   // max pooling: taps dil apart
  bool count_include_pad = true;  // average pooling: divide by the padded window
};

// Window start (may be negative, in padding) and the padded end of output position o.
TG_HOST_DEVICE int64_t window_start(int64_t o, int64_t stride, int64_t pad) {
  return o * stride - pad;
}

// The outputs along one axis whose windows cover input position i: [*first, *last).
TG_HOST_DEVICE void covering_outputs(int64_t i, int64_t kernel, int64_t stride, int64_t pad,
                                     int64_t out_size, int64_t* first, int64_t* last) {
  // o covers i when o·s - p <= i < o·s - p + k.
  const int64_t hi = (i + pad) / stride;  // largest o with o·s - p <= i
  const int64_t lo_num = i + pad - kernel + 1;
  const int64_t lo = lo_num <= 0 ? 0 : (lo_num + stride - 1) / stride;
  *first = lo;
  *last = hi + 1 < out_size ? hi + 1 : out_size;
}

template <typename T>
TG_HOST_DEVICE T max_pool_element(const Pool2dArgs& a, const T* plane, int64_t oh, int64_t ow,
                                  int64_t* argmax) {
  const int64_t h0 = window_start(oh, a.stride_h, a.pad_h),
                w0 = window_start(ow, a.stride_w, a.pad_w);
  T best = T(0);
  int64_t best_at = -1;
  for (int64_t i = 0; i < a.kernel_h; ++i) {
    const int64_t h = h0 + i * a.dil_h;
    if (h < 0 || h >= a.in_h) continue;
    for (int64_t j = 0; j < a.kernel_w; ++j) {
      const int64_t w = w0 + j * a.dil_w;
      if (w < 0 || w >= a.in_w) continue;
      // Without short-circuits, so the compiler selects instead of branching (random data
      // makes these comparisons unpredictable: branches cost 3x on the CPU).
      const T v = plane[h * a.in_w + w];
      const bool take = (best_at < 0) | ((best == best) & ((v > best) | (v != v)));
      best = take ? v : best;
      best_at = take ? h * a.in_w + w : best_at;
    }
  }
  *argmax = best_at;
  return best;
}

// PyTorch's divisor: the window clipped to the padded input (count_include_pad), or to the
// input itself (count_include_pad = false).
template <typename T>
TG_HOST_DEVICE T avg_pool_divisor(const Pool2dArgs& a, int64_t oh, int64_t ow) {
  int64_t h0 = window_start(oh, a.stride_h, a.pad_h), w0 = window_start(ow, a.stride_w, a.pad_w);
  int64_t h1 = h0 + a.kernel_h < a.in_h + a.pad_h ? h0 + a.kernel_h : a.in_h + a.pad_h;
  int64_t w1 = w0 + a.kernel_w < a.in_w + a.pad_w ? w0 + a.kernel_w : a.in_w + a.pad_w;
  if (!a.count_include_pad) {
    h0 = h0 < 0 ? 0 : h0;
    w0 = w0 < 0 ? 0 : w0;
    h1 = h1 < a.in_h ? h1 : a.in_h;
    w1 = w1 < a.in_w ? w1 : a.in_w;
  }
  return static_cast<T>((h1 - h0) * (w1 - w0));
}

template <typename T>
TG_HOST_DEVICE T avg_pool_element(const Pool2dArgs& a, const T* plane, int64_t oh, int64_t ow) {
  const int64_t h0 = window_start(oh, a.stride_h, a.pad_h),
                w0 = window_start(ow, a.stride_w, a.pad_w);
  T total = T(0);
  for (int64_t h = h0 < 0 ? 0 : h0; h < h0 + a.kernel_h && h < a.in_h; ++h) {
    for (int64_t w = w0 < 0 ? 0 : w0; w < w0 + a.kernel_w && w < a.in_w; ++w)
      total += plane[h * a.in_w + w];
  }
  return total / avg_pool_divisor<T>(a, oh, ow);
}

// dL/dx at input (h, w) of one plane, from that plane's output gradients.
template <typename T>
TG_HOST_DEVICE T pool_backward_element(const Pool2dArgs& a, bool is_max, const T* grad_plane,
                                       const int64_t* argmax_plane, int64_t h, int64_t w) {
  // The outputs whose window span (dilated for max pooling) covers (h, w); for max pooling
  // the argmax test below keeps only those that took this element.
  int64_t oh0, oh1, ow0, ow1;
  covering_outputs(h, (a.kernel_h - 1) * a.dil_h + 1, a.stride_h, a.pad_h, a.out_h, &oh0, &oh1);
  covering_outputs(w, (a.kernel_w - 1) * a.dil_w + 1, a.stride_w, a.pad_w, a.out_w, &ow0, &ow1);
  T total = T(0);
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    for (int64_t ow = ow0; ow < ow1; ++ow) {
      const int64_t o = oh * a.out_w + ow;
      if (is_max) {
        if (argmax_plane[o] == h * a.in_w + w) total += grad_plane[o];
      } else {
        total += grad_plane[o] / avg_pool_divisor<T>(a, oh, ow);
      }
    }
  }
  return total;
}

struct PoolForwardArgs {
  Pool2dArgs shape;
  bool is_max;
  const void* in;   // (planes, in_h, in_w) contiguous
  void* out;        // (planes, out_h, out_w) contiguous
  int64_t* argmax;  // (planes, out_h, out_w), max pooling only
};

struct PoolBackwardArgs {
  Pool2dArgs shape;
  bool is_max;
  const void* grad;       // (planes, out_h, out_w) contiguous
  const int64_t* argmax;  // max pooling only
  void* grad_in;          // (planes, in_h, in_w) contiguous
};

namespace cpu {
void pool2d_forward(const PoolForwardArgs& args);
void pool2d_backward(const PoolBackwardArgs& args);
}  // namespace cpu
namespace cuda {
void pool2d_forward(const PoolForwardArgs& args, void* stream);
void pool2d_backward(const PoolBackwardArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
