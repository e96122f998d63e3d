// Choosing the device once, in core (internal, not installed).
//
// TG_ON_DEVICE(device, cpu_call, stream, cuda_call) runs cpu_call on the CPU, and on CUDA
// makes the device current, names its stream `stream` (the call site chooses the name, so
// cuda_call never uses a variable it cannot see defined) and runs cuda_call. In a build
// without CUDA the CUDA launchers do not exist, so the macro drops cuda_call; a CUDA
// tensor cannot exist there anyway (allocation already refused it), which the assertion
// double-checks.
#pragma once

#include "../foundation/config.h"
#include "../foundation/error.h"
#include "context.h"
#include "cuda_backend.h"

#if TG_WITH_CUDA
#define TG_ON_DEVICE(device, cpu_call, stream, cuda_call)  \
  do {                                                     \
    if ((device).is_cuda()) {                              \
      void* const stream = ::tg::context(device).stream(); \
      ::tg::cuda_backend::set_device((device).index());    \
      cuda_call;                                           \
    } else {                                               \
      cpu_call;                                            \
    }                                                      \
  } while (0)
#else
#define TG_ON_DEVICE(device, cpu_call, stream, cuda_call)                              \
  do {                                                                                 \
    TG_ASSERT(!(device).is_cuda(), "a CUDA tensor in a build without CUDA: ", device); \
    cpu_call;                                                                          \
  } while (0)
#endif
