// DataLoader over an image data set held as uint8 (N, ...) with int64 labels (N,): seeded
// shuffling, batching, drop_last, conversion to float32 (x / 255 - mean) / std, the batch
// on the training device, and optional augmentation there (random crop with padding,
// horizontal flip: core/ops/augment.h). Or over any Dataset (data/dataset.h): examples of
// any tensors, stacked into batch tensors as they come (no conversion or normalisation:
// that is the dataset's transforms' job), with the same order, shards, background
// preparation, residency and augmentation (of a float (B, C, H, W) first tensor). Two modes:
//   host (default)  a background thread (one per loader, kept: Note [prefetch thread])
//                   prepares batch i + 1 on the CPU while the caller trains on batch i;
//                   the batch is then copied to the device;
//   resident        the whole data set lives on the device as uint8 (copied once), each
//                   epoch's order is uploaded once, and a batch is gathered, converted and
//                   normalised there: no host work or copy per batch. Both modes give the
//                   same batches bit for bit.
// Augmentation draws come from (seed, epoch, batch) (Note [augmentation draws]), so a
// resumed run sees the same augmented batches.
//
// Note [loader order]: the order of epoch e is a Fisher-Yates shuffle driven by
// splitmix64(seed, e), our own generator rather than <random>'s distributions (whose
// results differ between standard libraries), so a seed gives the same batches everywhere.
//
// Note [loader shards]: with shard_count W > 1 (data-parallel training,
// distributed/data_parallel.h) every rank computes the same order of the epoch; global batch
// i is its images [i·B·W, (i+1)·B·W), and rank r takes its r-th share of them in rank order,
// the shares as even as possible (B each, except in a last, shorter global batch). So every
// image is seen by one rank once per epoch, the ranks take the same number of batches, and
// the shares of batch i, concatenated, are batch i of one loader with batch size B·W: one
// process training on the combined batch sees the same images in the same order.
// drop_last drops a last, shorter global batch; without it, that batch must leave every
// rank at least one image (a loader refuses a set-up where it would not).
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <vector>

#include "../core/tensor.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg {
class TaskThread;  // core/task_thread.h (internal)
}  // namespace tg

namespace tg::data {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  double mean = 0.1307;  // MNIST's pixel mean and std (after / 255)
  double std = 0.3081;
  Device device{};        // where batches are delivered
  bool resident = false;  // keep the data set on `device` (see above)
  int64_t crop_pad = 0;   // random crop: shift each image by up to this many pixels
  bool flip = false;      // random horizontal flip (for images where mirroring keeps the class)
  // Data-parallel sharding (Note [loader shards]): this loader delivers rank shard_rank's
  // share of every global batch of shard_count × batch_size images.
  int64_t shard_rank = 0;
  int64_t shard_count = 1;
};

struct Batch {
  Tensor x;  // (B, 1, rows, cols) float32 for (N, rows, cols) images; (B, ...) float32 otherwise
  Tensor y;  // (B,) int64
  // A Dataset loader's batch: every stacked tensor, in the examples' order; x and y are the
  // first two (y undefined for examples of one tensor).
  std::vector<Tensor> tensors;
};

class Dataset;

class DataLoader {
 public:
  DataLoader(Tensor images, Tensor labels, const LoaderOptions& options);
  // Over a Dataset; options.mean and options.std are not used.
  DataLoader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t size() const { return count_; }  // examples in the data set (all shards)
  int64_t batches() const;                 // per epoch
  const LoaderOptions& options() const { return options_; }
  // Images in global batch i over all shards (its size with shard_count 1).
  int64_t global_batch_images(int64_t i) const;
  // Fixes the order of epoch `epoch` and starts preparing its first batch.
  void start_epoch(int64_t epoch);
  // Batch i of the current epoch, i in [0, batches()); sequential access is the fast one.
  Batch batch(int64_t i);

 private:
  void check_options() const;
  Batch build(int64_t i) const;
  Batch build_resident(int64_t i) const;
  Batch build_from_dataset(int64_t i) const;
  Batch augmented(Batch batch, int64_t i) const;
  std::vector<int64_t> batch_indices(int64_t i) const;       // this shard's examples of batch i
  std::future<Batch> prefetch(std::function<Batch()> work);  // on prefetcher_

  Tensor images_, labels_;
  Tensor resident_images_, resident_labels_, resident_order_;  // on the device (resident)
  std::shared_ptr<const Dataset> dataset_;
  std::vector<Tensor> resident_tensors_;  // the dataset's, stacked, on the device (resident)
  int64_t epoch_ = 0;
  LoaderOptions options_;
  int64_t count_, example_size_;
  Shape example_shape_;
  std::vector<int64_t> order_;       // this shard's images of the epoch, batch after batch
  std::vector<int64_t> full_order_;  // the epoch's order over all shards
  int64_t pending_index_ = -1;
  std::future<Batch> pending_;
  std::unique_ptr<TaskThread> prefetcher_;  // host mode: the thread that builds batch i + 1
};

}  // namespace tg::data

TG_API_END
