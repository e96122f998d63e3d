// The column matrix of one sample (kernels/conv2d.h: (C_in·kh·kw, out_h·out_w), entry (row,
// col) the input pixel under kernel tap row = (c, i, j) at output position col, or 0 in
// padding) and its adjoint, for the CPU's own conv2d lowering (Note [cpu conv2d],
// kernels/cpu/conv2d.cpp). Included by that file only.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "../conv2d.h"

namespace tg::kernels::cpu::conv2d_columns {

// The output positions o < out whose input position o·stride + offset lies in [0, size):
// [first, last). Inside it no bounds test is needed.
struct ValidRange {
  int64_t first, last;
};
inline ValidRange valid_outputs(int64_t out, int64_t stride, int64_t offset, int64_t size) {
  const auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); };
  const int64_t first = std::clamp<int64_t>(ceil_div(-offset, stride), 0, out);
  return {first, std::clamp<int64_t>(ceil_div(size - offset, stride), first, out)};
}

// The column matrix (kernels/conv2d.h) of one sample, a row (kernel tap) at a time: each
// output row copies the valid span of one input row (a shifted copy at stride 1) and zeroes
// the padding around it.
// Row r of the sample's columns starts at columns + r·ld (ld >= out_h·out_w: several
// samples side by side).
template <typename T>
void im2col(const Conv2dGeometry& g, const T* image, T* columns, int64_t ld) {
  const int64_t rows = g.c_in * g.kh * g.kw, cols = g.out_h * g.out_w;
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 14) && !omp_in_parallel())
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t j = r % g.kw, i = (r / g.kw) % g.kh, c = r / (g.kw * g.kh);
    const int64_t offset_w = j * g.dil_w - g.pad_w;
    const ValidRange span = valid_outputs(g.out_w, g.stride_w, offset_w, g.w);
    T* dst = columns + r * ld;
    for (int64_t oh = 0; oh < g.out_h; ++oh, dst += g.out_w) {
      const int64_t h = oh * g.stride_h - g.pad_h + i * g.dil_h;
      if (h < 0 || h >= g.h) {
        for (int64_t ow = 0; ow < g.out_w; ++ow) dst[ow] = T(0);
        continue;
      }
      const T* src = image + (c * g.h + h) * g.w;
      for (int64_t ow = 0; ow < span.first; ++ow) dst[ow] = T(0);
      if (g.stride_w == 1) {
        for (int64_t ow = span.first; ow < span.last; ++ow) dst[ow] = src[ow + offset_w];
      } else {
        for (int64_t ow = span.first; ow < span.last; ++ow) {
          dst[ow] = src[ow * g.stride_w + offset_w];
        }
      }
      for (int64_t ow = span.last; ow < g.out_w; ++ow) dst[ow] = T(0);
    }
  }
}

// The adjoint of im2col: every column entry added back onto the input pixel it was copied
// from. A channel's taps are added in (i, j) order, so each pixel sums its contributions in
// the same order on every run; channels are independent and may run in parallel.
template <typename T>
void col2im(const Conv2dGeometry& g, const T* columns, int64_t ld, T* image) {
#pragma omp parallel for schedule(static) if (g.c_in * g.h * g.w > (1 << 14) && !omp_in_parallel())
  for (int64_t c = 0; c < g.c_in; ++c) {
    T* plane = image + c * g.h * g.w;
    for (int64_t p = 0; p < g.h * g.w; ++p) plane[p] = T(0);
    for (int64_t i = 0; i < g.kh; ++i) {
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t offset_w = j * g.dil_w - g.pad_w;
        const ValidRange span = valid_outputs(g.out_w, g.stride_w, offset_w, g.w);
        const T* src = columns + ((c * g.kh + i) * g.kw + j) * ld;
        for (int64_t oh = 0; oh < g.out_h; ++oh, src += g.out_w) {
          const int64_t h = oh * g.stride_h - g.pad_h + i * g.dil_h;
          if (h < 0 || h >= g.h) continue;
          T* dst = plane + h * g.w;
          if (g.stride_w == 1) {
            for (int64_t ow = span.first; ow < span.last; ++ow) dst[ow + offset_w] += src[ow];
          } else {
            for (int64_t ow = span.first; ow < span.last; ++ow) {
              dst[ow * g.stride_w + offset_w] += src[ow];
            }
          }
        }
      }
    }
  }
}

}  // namespace tg::kernels::cpu::conv2d_columns
