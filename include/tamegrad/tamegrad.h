// tamegrad: the umbrella header. #include <tamegrad/tamegrad.h> and link
// tamegrad::tamegrad (find_package(tamegrad CONFIG REQUIRED)).
#pragma once

#include "tamegrad/core/autograd.h"
#include "tamegrad/core/context.h"
#include "tamegrad/core/cuda_graph.h"
#include "tamegrad/core/device.h"
#include "tamegrad/core/dtype.h"
#include "tamegrad/core/error.h"
#include "tamegrad/core/factory.h"
#include "tamegrad/core/generator.h"
#include "tamegrad/core/gradcheck.h"
#include "tamegrad/core/ops.h"
#include "tamegrad/core/safetensors.h"
#include "tamegrad/core/state_dict.h"
#include "tamegrad/core/storage.h"
#include "tamegrad/core/tensor.h"
#include "tamegrad/distributed/data_parallel.h"
#include "tamegrad/distributed/process_group.h"
#include "tamegrad/layers/layers.h"
#include "tamegrad/optim/optim.h"
#include "tamegrad/version.h"
