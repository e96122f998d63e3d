// Our own Winograd F(4x4, 3x3) convolution of a block of samples in oneDNN's nChw16c layout
// (Note [winograd f43] in winograd_f43.cpp): the forward and the data gradient of a 3x3,
// stride-1, pad-1 conv2d whose channels are multiples of 16, on CPUs with AVX-512F.
// conv2d_onednn.cpp runs its Winograd blocks on it in place of oneDNN's jit_wino_4x3.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../conv2d.h"

namespace tg::kernels::cpu::winograd {

// Whether this CPU runs these kernels (AVX-512F).
bool available();

// Whether g is a convolution these kernels compute: 3x3, stride 1, padding 1, no dilation or
// groups, both channel counts multiples of 16 (so the output has the input's height and width).
bool takes(const Conv2dGeometry& g);

// The transformed filter U for one direction, [36][c_from][c_to] floats: the forward (from
// C_in to C_out) or the data gradient (from C_out to C_in, the filter turned by 180 degrees and
// its two channel axes swapped).
enum class Direction { Forward, Data };
size_t filter_floats(const Conv2dGeometry& g);
void transform_filter(const Conv2dGeometry& g, Direction direction, const float* weight, float* u);

// The floats of scratch memory convolve_block wants (64-byte aligned).
size_t scratch_floats(int64_t c_from, int64_t c_to);

// y = the 3x3 pad-1 convolution of x with the filter u stands for (from transform_filter), plus
// bias (c_to floats) when it is not null. x is (count, c_from / 16, h, w, 16) and y is
// (count, c_to / 16, h, w, 16), both 64-byte aligned; runs on the calling thread.
void convolve_block(int64_t count, int64_t c_from, int64_t c_to, int64_t h, int64_t w,
                    const float* x, const float* u, const float* bias, float* y, float* scratch);

}  // namespace tg::kernels::cpu::winograd
