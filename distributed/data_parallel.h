// Data-parallel training (PyTorch's DistributedDataParallel, on tamegrad's flat buffers):
// every rank holds the whole model and trains on its own share of each global batch
// (data::LoaderOptions::shard_rank / shard_count); each flat gradient buffer is summed over
// the ranks, so every rank takes the same step and the parameters stay bitwise equal.
//
//   DataParallel parallel(group, optimizer, model.named_buffers());   // checks, broadcasts
//   for each global batch i:
//     loss = cross_entropy(model(x), y, Sum) / loader.global_batch_images(i);  // its share
//     parallel.prepare_for_backward();    // the next backward starts the reductions
//     loss.backward();
//     parallel.reduce_gradients();        // Σ over ranks = the global batch's mean gradient
//     optimizer.clip_grad_norm(...); optimizer.step();  // same norm, same skip on every rank
//
// Scaling each rank's summed loss by the global batch's size makes the summed gradients
// exactly those of one process on the combined batch (shares may differ by one image).
// Global-norm clipping and the non-finite skip then agree on every rank by construction:
// they read the reduced gradients, and a NaN on one rank is a NaN on all after the sum.
// BatchNorm statistics stay local to each rank (PyTorch's default); average_buffers()
// makes them agree (mnist_train --sync-bn calls it before every evaluation).
//
// Note [gradient buckets]
// Each flat gradient buffer is cut into buckets of whole parameters, from its end (the
// last layers, whose gradients backward makes first) towards its start: the first bucket
// up to first_bucket_bytes, the others up to bucket_bytes (PyTorch DDP's 1 MiB and 25 MiB).
// After prepare_for_backward(), a hook on each parameter (post-accumulate) counts down its
// bucket; a bucket whose gradients are all final starts its all-reduce at once, in bucket
// order on every rank (a bucket ready early waits for the ones before it, so the ranks'
// collectives pair up) through ProcessGroup::start_all_reduce: the MPI group reduces on a
// thread of its own while backward goes on, the NCCL group on a stream of its own.
// reduce_gradients starts the buckets no backward reached (unused parameters) and waits for
// all (wait_started). The MPI all-reduce sums each element in rank order whatever its bucket
// (Note [bitwise-equal all-reduce], mpi_group.cpp), so any bucket size gives the bits of
// one bucket per buffer. Only one backward may follow prepare_for_backward(): a second
// accumulation into a bucket already reducing throws.
// Without prepare_for_backward() (gradient accumulation's earlier micro-batches, or a step
// with several backwards), reduce_gradients reduces every bucket after the fact.
//
// Tests: tests/distributed/ (label distributed, under mpirun -np 2 and 4).
#pragma once

#include <memory>
#include <vector>

#include "../core/state_dict.h"
#include "../foundation/config.h"
#include "../optim/optimizer.h"
#include "process_group.h"

TG_API_BEGIN

namespace tg::distributed {

struct DataParallelOptions {
  // Note [gradient buckets]: sizes in bytes (at least one parameter each).
  int64_t bucket_bytes = int64_t{25} << 20;
  int64_t first_bucket_bytes = int64_t{1} << 20;
  // Start each bucket's all-reduce during backward (after prepare_for_backward); false
  // reduces every bucket in reduce_gradients.
  bool overlap = true;
};

// What the last reduce_gradients did (tg_distributed_probe bench reads it).
struct ReduceStats {
  int buckets = 0;              // all-reduces, one per bucket
  int started_in_backward = 0;  // of them, started by backward's hooks
  double wait_seconds = 0;      // spent inside reduce_gradients
};

class DataParallel {
 public:
  // Checks that every rank has the same parameter and buffer layout (throws on every rank,
  // naming the ranks and their layouts, when not), then copies rank 0's parameters and
  // `buffers` to every rank, and cuts the buckets.
  DataParallel(std::shared_ptr<ProcessGroup> group, optim::Optimizer& optimizer,
               const NamedTensors& buffers = {}, const DataParallelOptions& options = {});
  ~DataParallel();  // removes its hooks
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  // The next backward starts each bucket's all-reduce as soon as its gradients are final
  // (Note [gradient buckets]); `op` must be the one reduce_gradients is then called with.
  void prepare_for_backward(ReduceOp op = ReduceOp::Sum);
  // Sums every flat gradient buffer over the ranks, bucket by bucket, and returns when all
  // are done: Sum (each rank's loss scaled by its share of the global batch, as above) or
  // Mean (each rank's mean loss over equal shares). Rethrows a bucket's failure (a time-out).
  void reduce_gradients(ReduceOp op = ReduceOp::Sum);
  // Averages the buffers (BatchNorm running statistics) over the ranks, in place.
  void average_buffers();
  // Whether every rank holds the same bits in every parameter (a check; waits).
  bool parameters_agree();

  ProcessGroup& group() { return *group_; }
  // Each bucket's gradients (views into the flat buffers), in the order they are reduced.
  std::vector<Tensor> buckets() const;
  const ReduceStats& last_reduce() const { return stats_; }

 private:
  struct Bucket {
    size_t group;        // which flat buffer
    int64_t begin, end;  // its elements there
    int members;         // parameters in it
    int pending;         // of them, not yet final in this backward
  };
  void check_layouts_agree();
  void cut_buckets();
  void on_gradient_final(size_t bucket);
  void launch_ready();
  void launch(size_t bucket);
  void reset(ReduceOp op);
  Tensor bucket_grads(size_t bucket) const;

  std::shared_ptr<ProcessGroup> group_;
  optim::Optimizer& optimizer_;
  NamedTensors buffers_;
  DataParallelOptions options_;
  std::vector<Bucket> buckets_;
  std::vector<HookHandle> hooks_;
  bool armed_ = false;
  ReduceOp op_ = ReduceOp::Sum;
  size_t next_launch_ = 0;  // buckets before it have been started
  ReduceStats stats_;
};

}  // namespace tg::distributed

TG_API_END
