// TG_HOST_DEVICE: a function both launchers share (STYLE 4), compiled for the host and, under
// nvcc, for the device too.
#pragma once

#if defined(__CUDACC__)
#define TG_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define TG_HOST_DEVICE inline
#endif
