// DeviceContext: everything per device that ops need: the stream work is queued on, the
// cuBLAS and cuDNN handles bound to it (created on first use), and the default random
// generator. One per device, created on first use and kept for the process's lifetime;
// there is no other global state (no global handle, no mode flag).
#pragma once

#include <cstdint>
#include <mutex>

#include "../foundation/config.h"
#include "device.h"
#include "generator.h"

TG_API_BEGIN

namespace tg {

class CudaGraph;

class DeviceContext {
 public:
  explicit DeviceContext(Device device);  // throws when the device is unusable here
  DeviceContext(const DeviceContext&) = delete;
  DeviceContext& operator=(const DeviceContext&) = delete;

  const Device& device() const { return device_; }
  Generator& generator() { return generator_; }

  // The cudaStream_t every op on this device is queued on (null on the CPU).
  void* stream() const { return stream_; }
  // cublasHandle_t / cudnnHandle_t bound to stream(); CUDA devices only. Created on first
  // use and released at process exit (Note [context lifetime], core/context.cpp).
  void* cublas_handle();
  void* cudnn_handle();
  // A number no other cuDNN handle of this process has had, given when cudnn_handle() made
  // the current one: what caches of per-handle state are keyed by (a released handle's
  // address may come back for another).
  uint64_t cudnn_generation();
  // Releases the library handles (they are made again if asked for afterwards).
  void release_library_handles() noexcept;
  // Whether float32 matrix products may use TF32 tensor cores (off by default).
  bool allow_tf32() const { return allow_tf32_; }
  void set_allow_tf32(bool allow) { allow_tf32_ = allow; }

  // Test aid: while on, every new allocation on this device gets guard bytes before and
  // after it, filled with a pattern that Storage::guards_intact() checks.
  void set_allocation_guards(bool on) { allocation_guards_ = on; }
  bool allocation_guards() const { return allocation_guards_; }

  // Waits until all work queued on this device is done (a no-op on the CPU). Only call
  // where a value must reach the host; training steps never do.
  void synchronize() const;

  // The state one random op on this device draws with from `generator`: reserved from it,
  // or, while a CudaGraph captures this device's stream, numbered within the graph
  // (Note [random numbers in CUDA graphs], core/cuda_graph.h).
  RandomState reserve_random(Generator& generator);
  // The graph capturing this device's stream, or null (set by CudaGraph).
  CudaGraph* capturing_graph() const { return capturing_graph_; }
  void set_capturing_graph(CudaGraph* graph) { capturing_graph_ = graph; }

 private:
  Device device_;
  Generator generator_;
  void* stream_ = nullptr;
  std::mutex handle_mutex_;
  void* cublas_ = nullptr;
  void* cudnn_ = nullptr;
  uint64_t cudnn_generation_ = 0;
  bool allow_tf32_ = false;
  bool allocation_guards_ = false;
  CudaGraph* capturing_graph_ = nullptr;
};

// The context of `device`; throws tg::Error naming the device when it is unusable
// (CUDA not compiled in, no such device).
DeviceContext& context(const Device& device);

// Seeds the default generator of the CPU and of every CUDA device.
void manual_seed(uint64_t seed);

}  // namespace tg

TG_API_END
