// Every op of the library, differentiable where it makes sense. Each op has a CPU and a
// CUDA kernel (kernels/<op>.h) and is checked by tests/ops/ against finite differences
// and, where a GPU is present, CPU/CUDA parity.
#pragma once

#include "ops/augment.h"
#include "ops/batch_norm.h"
#include "ops/conv1d.h"
#include "ops/conv2d.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/gru_cell.h"
#include "ops/index.h"
#include "ops/layer_norm.h"
#include "ops/loss.h"
#include "ops/lstm_cell.h"
#include "ops/matmul.h"
#include "ops/pool.h"
#include "ops/reduce.h"
#include "ops/resample.h"
#include "ops/softmax.h"
#include "ops/update.h"
