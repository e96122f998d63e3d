// The CUDA runtime calls core makes (internal, not installed). Two implementations:
// core/cuda_backend.cpp when CUDA is compiled in, core/cuda_backend_none.cpp otherwise,
// where every call that needs a GPU throws "CUDA support was not compiled in".
// Streams and handles travel as void* so that no public header needs CUDA's.
#pragma once

#include <cstddef>
#include <string>

#include "core/device.h"

namespace tg::cuda_backend {

bool compiled();
int device_count();  // 0 when there is no driver or GPU; never throws

// Makes `device` current for the calling thread (kernel launches go to its streams).
void set_device(int device);

void* create_stream(int device);
void* create_cublas(int device, void* stream);
void* create_cudnn(int device, void* stream);

void* allocate(int device, void* stream, size_t bytes);
void deallocate(int device, void* stream, void* ptr) noexcept;

// Copies bytes between any two devices. Device-to-host copies wait for the data.
void copy_bytes(void* dst, const Device& dst_device, const void* src, const Device& src_device,
                size_t bytes);
void synchronize(int device, void* stream);

// "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.1 GiB".
std::string describe(int device);
// "CUDA runtime 13.0, cuBLAS 13.0.0, cuDNN 9.x" (what this build links).
std::string library_versions();

}  // namespace tg::cuda_backend
