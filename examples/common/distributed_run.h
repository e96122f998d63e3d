// --distributed in mnist_train: the process group (MPI for the CPU, NCCL for GPUs, one per
// rank), the rank's device, and what only rank 0 does. Every rank runs the same program on
// its share of each global batch (distributed/data_parallel.h); only rank 0 prints, writes
// metrics, TensorBoard logs and checkpoints.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "../../core/context.h"
#include "../../core/device.h"
#include "../../distributed/process_group.h"

namespace tg::examples {

struct DistributedRun {
  std::shared_ptr<distributed::ProcessGroup> group;  // null when not distributed
  int rank = 0, world = 1;

  // With `on`, joins the processes mpirun started; on a GPU each rank takes device
  // rank % (GPUs on its machine). Silences stdout on every rank but 0.
  static DistributedRun start(bool on, double timeout_seconds, Device& device) {
    DistributedRun run;
    if (!on) return run;
    distributed::GroupOptions options;
    options.timeout_seconds = timeout_seconds;
    auto host = distributed::mpi_world(options);
    run.rank = host->rank();
    run.world = host->world_size();
    if (device.is_cuda()) {
      device = Device::cuda(run.rank % cuda_device_count());
      run.group = distributed::nccl_group(device, options);
    } else {
      run.group = host;
    }
    if (run.rank != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) {
      std::fprintf(stderr, "rank %d: cannot silence stdout\n", run.rank);
    }
    return run;
  }

  bool primary() const { return rank == 0; }

  // Every rank starts from rank 0's seed (the same initial model); afterwards ranks other
  // than 0 draw from their own streams (seed + rank·1000003, same offsets), so that their
  // dropout masks differ. Called again after a resume, which restores rank 0's state.
  void decorrelate_generators(const Device& device) const {
    if (rank == 0) return;
    for (const Device& d : {Device::cpu(), device}) {
      Generator& g = context(d).generator();
      g.set_state(g.seed() + 1000003ull * static_cast<uint64_t>(rank), g.offset());
      if (d == device) break;
    }
  }
};

}  // namespace tg::examples
