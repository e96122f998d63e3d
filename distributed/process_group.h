// Process groups: the collective operations that data-parallel training needs, on
// established engines (no home-made transport):
//   MPI   (Open MPI; `mpirun -np N program` starts the processes, on one machine or many)
//         carries CPU tensors;
//   NCCL  carries CUDA tensors, one GPU per process, on the device's stream (nothing waits);
//         its unique id travels from rank 0 over MPI (without MPI: a world of one process).
// Every rank must call the same collectives in the same order with the same shapes. An MPI
// collective that has not completed after `timeout_seconds` throws, naming the operation
// and the rank (Note [collective time-outs], distributed/mpi_group.cpp); the group is then
// broken and finish() aborts the whole job instead of hanging in MPI_Finalize.
// A build without MPI (or NCCL) still has these functions: they say it was not compiled in.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../core/tensor.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg::distributed {

enum class ReduceOp { Sum, Mean };

struct GroupOptions {
  double timeout_seconds = 300;  // a collective not done by then throws (MPI; > 0)
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual std::string backend() const = 0;  // "mpi", "nccl", or "single" (a world of one)

  // In place, on a contiguous tensor of the same shape and dtype on every rank (CPU tensors
  // for MPI, CUDA tensors on the group's device for NCCL). Every rank ends with the same
  // bits. Mean divides the sum by world_size() (floating dtypes).
  virtual void all_reduce(const Tensor& t, ReduceOp op = ReduceOp::Sum) = 0;
  // The same all-reduce, started beside the caller's work (DataParallel's buckets, while
  // backward goes on), in the order started: MPI reduces on a thread of the group's own,
  // NCCL on a stream of its own once the device's stream has made `t`. wait_started()
  // returns when every one started is done (NCCL: makes the device's stream wait for them)
  // and rethrows a failure; every other collective waits for them first. A group without
  // such means reduces at once (these defaults).
  virtual void start_all_reduce(const Tensor& t, ReduceOp op = ReduceOp::Sum) { all_reduce(t, op); }
  virtual void wait_started() {}
  // Copies root's tensor into every rank's, in place.
  virtual void broadcast(const Tensor& t, int root = 0) = 0;
  // Returns when every rank has called it (and, for NCCL, when the device's queued work
  // is done).
  virtual void barrier() = 0;
  // Host values, whatever the backend: every rank's `values` one after another (all ranks
  // give the same count), and root's doubles on every rank.
  virtual std::vector<int64_t> all_gather(const std::vector<int64_t>& values) = 0;
  virtual std::vector<double> broadcast_values(const std::vector<double>& values, int root = 0) = 0;
};

// Whether this build has MPI, and NCCL (which needs CUDA too).
bool mpi_compiled();
bool nccl_compiled();

// The MPI group of every process mpirun started (a world of one when started without it).
// MPI is initialised on first use and finalised by finish() or at exit.
std::shared_ptr<ProcessGroup> mpi_world(const GroupOptions& options = {});
// A NCCL group over the same processes, on `device` (a CUDA device: one per rank).
std::shared_ptr<ProcessGroup> nccl_group(const Device& device, const GroupOptions& options = {});

// Ends the distributed run of this process: with exit_code 0 and no broken group, MPI is
// finalised; otherwise the whole job is aborted with exit_code (so that no other rank
// waits for this one forever). A no-op when MPI was never initialised. Returns exit_code.
int finish(int exit_code);

}  // namespace tg::distributed

TG_API_END
