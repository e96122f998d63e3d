// Choosing the device once, in core (internal, not installed).
//
// TG_ON_DEVICE(device, cpu_call, cuda_call) runs cpu_call on the CPU and cuda_call
// (given the device's stream, with the device made current) on CUDA. In a build without CUDA the CUDA launchers do not
// exist, so the macro drops cuda_call; a CUDA tensor cannot exist there anyway
// (allocation already refused it), which the assertion double-checks.
#pragma once

#include "core/context.h"
#include "core/cuda_backend.h"
#include "core/error.h"

#if TG_WITH_CUDA
#define TG_ON_DEVICE(device, cpu_call, cuda_call)                        \
  do {                                                                   \
    if ((device).is_cuda()) {                                            \
      void* stream = ::tg::context(device).stream();                     \
      ::tg::cuda_backend::set_device((device).index());                  \
      cuda_call;                                                         \
    } else {                                                             \
      cpu_call;                                                          \
    }                                                                    \
  } while (0)
#else
#define TG_ON_DEVICE(device, cpu_call, cuda_call)                                      \
  do {                                                                                 \
    TG_ASSERT(!(device).is_cuda(), "a CUDA tensor in a build without CUDA: ", device); \
    cpu_call;                                                                          \
  } while (0)
#endif
