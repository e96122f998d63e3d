// A first layer's float32 forward: one input channel, a 3x3 filter, stride 1, padding 1, the
// output in nChw16c (a conv block's: Note [conv block] in kernels/batch_norm.h), on our own
// AVX-512 loop (Note [first layer] in conv2d_first.cpp). kernels/cpu/conv2d.cpp asks here
// before oneDNN. Tests: tests/unit/conv2d_first_test.cpp.
#pragma once

#include "../conv2d.h"

namespace tg::kernels::cpu::first_layer {

// Whether the path takes a's forward: float32, C_in 1, 3x3, stride 1, padding 1, no dilation
// or groups, C_out a multiple of 16, the output blocked (nChw16c), on an AVX-512F CPU.
bool takes(const Conv2dArgs& a);

// y = conv(x, w) (+ bias) into a.out, nChw16c; only for what takes accepts.
void forward(const Conv2dArgs& a);

}  // namespace tg::kernels::cpu::first_layer
