// Every op of the library, differentiable where it makes sense. Each op has a CPU and a
// CUDA kernel (kernels/<op>.h) and is checked by tests/ops/ against finite differences
// and, where a GPU is present, CPU/CUDA parity.
#pragma once

#include "tamegrad/core/ops/augment.h"
#include "tamegrad/core/ops/batchnorm.h"
#include "tamegrad/core/ops/conv2d.h"
#include "tamegrad/core/ops/dropout.h"
#include "tamegrad/core/ops/elementwise.h"
#include "tamegrad/core/ops/index.h"
#include "tamegrad/core/ops/linalg.h"
#include "tamegrad/core/ops/loss.h"
#include "tamegrad/core/ops/pool.h"
#include "tamegrad/core/ops/reduce.h"
#include "tamegrad/core/ops/softmax.h"
#include "tamegrad/core/ops/update.h"
