// CudaGraph: records the work queued on one CUDA device's stream, typically a whole training
// step (zero_grad, forward, backward, clip, step), and replays it with one launch, as
// torch.cuda.CUDAGraph does:
//
//   train_step();                                 // once eagerly: handles, pools, state exist
//   tg::CudaGraph graph;                          // on cuda:0
//   graph.capture_begin(); train_step(); graph.capture_end();   // nothing runs yet
//   for (...) { x.copy_(next_batch); graph.replay(); }          // inputs at fixed addresses
//
// During the capture nothing may wait for the device (item(), to(cpu) fail the capture).
// What changes from step to step is read on the device, so replays see it: the optimizers'
// step counts (Note [device step count], kernels/update_common.h) and the Philox offsets of
// random ops (below). What was read from the host at capture stays as captured: learning
// rate, dropout p, shapes. Tensors the step allocates keep their addresses across replays.
//
// Note [random numbers in CUDA graphs]
// A random op captured in a graph cannot take its Philox offset as a kernel argument:
// every replay would repeat it, and dropout would drop the same units each step. While a
// graph captures, a generator's reservations are numbered from 0 within the graph
// (RandomState::offset) and the kernels add a base read from device memory
// (RandomState::offset_base). Before each replay the graph reserves from every generator
// its ops drew from as many offsets as they took, and writes the first into that
// generator's base. A replay therefore consumes each generator exactly as running the same
// ops eagerly would, and draws the same numbers. The generators must outlive the graph.
#pragma once

#include <cstdint>
#include <vector>

#include "../foundation/config.h"
#include "device.h"
#include "generator.h"
#include "tensor.h"

TG_API_BEGIN

namespace tg {

class CudaGraph {
 public:
  explicit CudaGraph(Device device = Device::cuda());  // throws when the device is unusable
  ~CudaGraph();
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Starts recording the device's stream (a graph captured before is dropped).
  void capture_begin();
  // Stops recording and prepares the graph for replay.
  void capture_end();
  // Runs the recorded work once more (queued, no wait).
  void replay();

  // The state a random op captured now draws with (DeviceContext::reserve_random).
  RandomState reserve(Generator& generator);

  static constexpr int kMaxGenerators = 16;

 private:
  struct Drawn {
    Generator* generator;
    uint64_t count;  // offsets the captured ops reserved from it
  };
  void discard_capture() noexcept;

  Device device_;
  bool capturing_ = false;
  void* graph_ = nullptr;  // the instantiated graph (cudaGraphExec_t)
  Tensor offset_bases_;    // (kMaxGenerators,) int64 on the device: one base per generator
  std::vector<Drawn> drawn_;
};

}  // namespace tg

TG_API_END
