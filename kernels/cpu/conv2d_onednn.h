// oneDNN's float32 conv2d passes for the CPU launchers (Note [onednn conv2d] in
// kernels/cpu/conv2d_onednn.cpp). Each returns false, having done nothing, for a case it
// does not take (float64, a geometry oneDNN cannot express, a build without oneDNN); the
// caller then runs its own im2col + GEMM.
#pragma once

#include "../conv2d.h"

namespace tg::kernels::cpu::onednn {

#if TG_WITH_ONEDNN
bool conv2d_forward(const Conv2dArgs& args);
bool conv2d_backward_data(const Conv2dArgs& args);
#else
inline bool conv2d_forward(const Conv2dArgs&) { return false; }
inline bool conv2d_backward_data(const Conv2dArgs&) { return false; }
#endif

}  // namespace tg::kernels::cpu::onednn
