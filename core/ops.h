// Every op of the library, differentiable where it makes sense. Each op has a CPU and a
// CUDA kernel (kernels/<op>.h) and is checked by tests/ops/ against finite differences
// and, where a GPU is present, CPU/CUDA parity.
#pragma once

#include "core/ops/conv.h"
#include "core/ops/elementwise.h"
#include "core/ops/index.h"
#include "core/ops/linalg.h"
#include "core/ops/normalization.h"
#include "core/ops/pool.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"
#include "core/ops/update.h"
