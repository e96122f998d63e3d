// tamegrad: the umbrella header, the whole public API. #include <tamegrad/tamegrad.h> and
// link tamegrad::tamegrad (find_package(tamegrad CONFIG REQUIRED)). It sits at the root of
// the repository as of the installed include/tamegrad/ (Note [includes], CMakeLists.txt).
#pragma once

#include "core/autograd.h"
#include "core/context.h"
#include "core/cuda_graph.h"
#include "core/device.h"
#include "core/factory.h"
#include "core/generator.h"
#include "core/gradcheck.h"
#include "core/ops.h"
#include "core/readback.h"
#include "core/safetensors.h"
#include "core/state_dict.h"
#include "core/storage.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "data/data.h"
#include "distributed/data_parallel.h"
#include "distributed/process_group.h"
#include "foundation/dtype.h"
#include "foundation/error.h"
#include "foundation/hyperparams.h"
#include "foundation/version.h"
#include "layers/layers.h"
#include "optim/optim.h"
#include "train/train.h"
