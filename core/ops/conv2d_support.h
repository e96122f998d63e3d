// What conv2d's front-end (core/ops/conv2d.cpp) shares with the conv block's
// (core/ops/conv2d_batch_norm.cpp): the geometry of a call, checked.
#pragma once

#include "../../kernels/conv2d.h"
#include "../tensor.h"

namespace tg::ops {

// The kernels' geometry of conv2d(x, w, ...), after checking the shapes and arguments (an
// error naming what is wrong otherwise).
kernels::Conv2dGeometry conv2d_geometry(const Tensor& x, const Tensor& w, Size2 stride,
                                        Size2 padding, Size2 dilation, int64_t groups);

}  // namespace tg::ops
