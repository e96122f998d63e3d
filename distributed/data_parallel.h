// Data-parallel training (PyTorch's DistributedDataParallel, on tamegrad's flat buffers):
// every rank holds the whole model and trains on its own share of each global batch
// (data::LoaderOptions::shard_rank / shard_count); after backward, each flat gradient
// buffer is summed over the ranks with one all-reduce, so every rank takes the same step
// and the parameters stay bitwise equal.
//
//   DataParallel parallel(group, optimizer, model.named_buffers());   // checks, broadcasts
//   for each global batch i:
//     loss = cross_entropy(model(x), y, Sum) / loader.global_batch_images(i);  // its share
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
// Tests: tests/distributed/ (label distributed, under mpirun -np 2).
#pragma once

#include <memory>

#include "../core/state_dict.h"
#include "../foundation/config.h"
#include "../optim/optimizer.h"
#include "process_group.h"

TG_API_BEGIN

namespace tg::distributed {

class DataParallel {
 public:
  // Checks that every rank has the same parameter and buffer layout (throws on every rank,
  // naming the ranks and their layouts, when not), then copies rank 0's parameters and
  // `buffers` to every rank.
  DataParallel(std::shared_ptr<ProcessGroup> group, optim::Optimizer& optimizer,
               const NamedTensors& buffers = {});

  // One all-reduce per flat gradient buffer: Sum (each rank's loss scaled by its share of
  // the global batch, as above) or Mean (each rank's mean loss over equal shares).
  void reduce_gradients(ReduceOp op = ReduceOp::Sum);
  // Averages the buffers (BatchNorm running statistics) over the ranks, in place.
  void average_buffers();
  // Whether every rank holds the same bits in every parameter (a check; waits).
  bool parameters_agree();

  ProcessGroup& group() { return *group_; }

 private:
  void check_layouts_agree();

  std::shared_ptr<ProcessGroup> group_;
  optim::Optimizer& optimizer_;
  NamedTensors buffers_;
};

}  // namespace tg::distributed

TG_API_END
