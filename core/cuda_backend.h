// The CUDA runtime calls core makes (internal, not installed). Two implementations:
// core/cuda_backend.cpp when CUDA is compiled in, core/cuda_backend_none.cpp otherwise,
// where every call that needs a GPU throws "CUDA support was not compiled in".
// Streams and handles travel as void* so that no public header needs CUDA's.
#pragma once

#include <cstddef>
#include <string>

#include "device.h"

namespace tg::cuda_backend {

bool compiled();
int device_count();  // 0 when there is no driver or GPU; never throws

// Makes `device` current for the calling thread (kernel launches go to its streams).
void set_device(int device);

void* create_stream(int device);
void* create_cublas(int device, void* stream);
void* create_cudnn(int device, void* stream);
// Releases handles made by create_cublas / create_cudnn (at process exit).
void destroy_cublas(int device, void* handle) noexcept;
void destroy_cudnn(int device, void* handle) noexcept;

// Stream-ordered allocation from the device's pool. A free while `stream` is being
// captured into a graph is deferred when the block was not allocated in that capture
// (Note [frees during graph capture], core/cuda_backend.cpp). A failed free cannot throw
// (it runs in destructors): the next allocate or synchronize reports it.
void* allocate(int device, void* stream, size_t bytes);
void deallocate(int device, void* stream, void* ptr) noexcept;
// Frees what deallocate deferred during captures that have ended.
void release_deferred_frees();

// CUDA graphs (core/cuda_graph.h): capture the work queued on `stream`, then replay it.
void begin_capture(int device, void* stream);
// Ends the capture and returns the instantiated graph (a cudaGraphExec_t).
void* end_capture(int device, void* stream);
void launch_graph(int device, void* stream, void* graph);
void destroy_graph(void* graph) noexcept;

// Copies bytes between any two devices. Device-to-host copies wait for the data.
void copy_bytes(void* dst, const Device& dst_device, const void* src, const Device& src_device,
                size_t bytes);
void synchronize(int device, void* stream);

// Page-locked host memory, which a device-to-host copy fills without the host waiting
// (core/readback.h). Freeing waits for nothing: the caller makes sure no copy is in flight.
void* allocate_pinned(size_t bytes);
void free_pinned(void* ptr) noexcept;
// Queues a device-to-host copy into pinned memory on `stream`; returns at once.
void copy_to_host_async(void* dst, const void* src, size_t bytes, int device, void* stream);
// Events mark a point in a stream's work: record_event places it after what is queued so
// far, event_done asks (without waiting) whether the work before it has finished, and
// wait_event waits for it.
void* create_event(int device);
void destroy_event(void* event) noexcept;
void record_event(int device, void* event, void* stream);
bool event_done(void* event);
void wait_event(void* event);
// Whether `stream` is being captured into a CUDA graph (by a CudaGraph or anyone else):
// what must not run there (event queries, host-chosen draws) refuses by it.
bool stream_capturing(int device, void* stream);

// "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.1 GiB".
std::string describe(int device);
// "CUDA runtime 13.0, cuBLAS 13.0.0, cuDNN 9.x" (what this build links).
std::string library_versions();

}  // namespace tg::cuda_backend
