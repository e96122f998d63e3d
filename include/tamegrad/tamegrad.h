// tamegrad: the umbrella header. #include <tamegrad/tamegrad.h> and link
// tamegrad::tamegrad (find_package(tamegrad CONFIG REQUIRED)).
#pragma once

#include "core/autograd.h"
#include "core/context.h"
#include "core/cuda_graph.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/factory.h"
#include "core/generator.h"
#include "core/gradcheck.h"
#include "core/ops.h"
#include "core/storage.h"
#include "core/tensor.h"
#include "core/version.h"
#include "optim/optim.h"
