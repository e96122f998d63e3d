#include "dataloader.h"

#include <numeric>

#include "../core/context.h"
#include "../core/cuda_backend.h"
#include "../core/factory.h"
#include "../core/ops.h"
#include "../core/task_thread.h"
#include "../kernels/cpu/isa_clones.h"
#include "dataset.h"

namespace tg::data {

// Note [prefetch thread]: the loader's next batch is built on one thread that lives as long
// as the loader (core/task_thread.h). std::async started a thread per batch, and with it a
// new OpenMP team for the batch's conversion; a kept thread keeps its team.

namespace {

// splitmix64 (Steele, Lea & Flood 2014): a full-period 64-bit generator.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

DataLoader::DataLoader(Tensor images, Tensor labels, const LoaderOptions& options)
    : images_(images.contiguous()), labels_(labels.contiguous()), options_(options) {
  TG_CHECK(images_.defined() && images_.dtype() == DType::UInt8 && images_.device().is_cpu() &&
               images_.dim() >= 1,
           "DataLoader: images must be a uint8 CPU tensor (N, ...)");
  TG_CHECK(labels_.defined() && labels_.dtype() == DType::Int64 && labels_.dim() == 1 &&
               labels_.device().is_cpu() && labels_.size(0) == images_.size(0),
           "DataLoader: labels must be int64 (N,) on the CPU with N = ", images_.size(0), ", got ",
           labels_.defined() ? dtype_name(labels_.dtype()) : "an undefined tensor", " ",
           labels_.defined() ? labels_.shape() : Shape{}, " on ",
           labels_.defined() ? labels_.device().str() : "no device",
           labels_.defined() && is_floating(labels_.dtype())
               ? " (class indices: convert with labels.to(DType::Int64))"
               : "");
  TG_CHECK(options.std > 0, "DataLoader: std must be positive, got ", options.std);
  count_ = images_.size(0);
  example_shape_.assign(images_.shape().begin() + 1, images_.shape().end());
  if (example_shape_.size() == 2) example_shape_.insert(example_shape_.begin(), 1);  // channel
  example_size_ = shape_numel(example_shape_);
  TG_CHECK((options.crop_pad == 0 && !options.flip) || example_shape_.size() == 3,
           "DataLoader: crop and flip need images (N, H, W) or (N, C, H, W), got shape ",
           images_.shape());
  check_options();
  full_order_.resize(static_cast<size_t>(count_));
  std::iota(full_order_.begin(), full_order_.end(), 0);
  order_ = full_order_;
  if (options.resident) {
    resident_images_ = images_.to(options.device);
    resident_labels_ = labels_.to(options.device);
  }
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options)
    : dataset_(std::move(dataset)), options_(options) {
  TG_CHECK(dataset_ != nullptr, "DataLoader: no dataset given");
  count_ = dataset_->size();
  TG_CHECK(count_ >= 0, "DataLoader: the dataset's size is negative (", count_, ")");
  example_size_ = 0;
  if (count_ > 0 && (options.crop_pad > 0 || options.flip)) {
    const Example first = dataset_->get(0);
    TG_CHECK(!first.empty() && first[0].dim() == 3 && is_floating(first[0].dtype()),
             "DataLoader: crop and flip need a floating (C, H, W) first tensor per example, got ",
             first.empty() ? Shape{} : first[0].shape());
  }
  check_options();
  full_order_.resize(static_cast<size_t>(count_));
  std::iota(full_order_.begin(), full_order_.end(), 0);
  order_ = full_order_;
  if (options.resident && count_ > 0) {
    // Every example read once, stacked, and kept on the device.
    std::vector<int64_t> all(static_cast<size_t>(count_));
    std::iota(all.begin(), all.end(), 0);
    std::vector<Example> examples;
    examples.reserve(all.size());
    for (int64_t k : all) examples.push_back(dataset_->get(k));
    for (const Tensor& t : collate(examples, all))
      resident_tensors_.push_back(t.to(options.device));
  }
}

// The checks both constructors share.
void DataLoader::check_options() const {
  const LoaderOptions& options = options_;
  TG_CHECK(options.batch_size > 0, "DataLoader: batch_size must be positive, got ",
           options.batch_size);
  TG_CHECK(options.crop_pad >= 0, "DataLoader: crop_pad must be >= 0, got ", options.crop_pad);
  const int64_t w = options.shard_count;
  TG_CHECK(w >= 1 && options.shard_rank >= 0 && options.shard_rank < w,
           "DataLoader: shard_rank must be in [0, shard_count = ", w, "), got ",
           options.shard_rank);
  if (w > 1) {
    const int64_t global = options.batch_size * w, tail = count_ % global;
    TG_CHECK(batches() > 0, "DataLoader: ", count_, " examples make no global batch of ", w,
             " shards x ", options.batch_size, " with drop_last");
    TG_CHECK(options.drop_last || tail == 0 || tail >= w, "DataLoader: the last global batch of ",
             count_, " examples in batches of ", w, " shards x ", options.batch_size, " has ", tail,
             " examples for ", w,
             " shards, and every shard needs one (use drop_last, or another batch size or "
             "number of processes)");
  }
}

DataLoader::~DataLoader() {
  if (pending_.valid()) pending_.wait();
}

std::future<Batch> DataLoader::prefetch(std::function<Batch()> work) {
  if (!prefetcher_) prefetcher_ = std::make_unique<TaskThread>();
  auto task = std::make_shared<std::packaged_task<Batch()>>(std::move(work));
  std::future<Batch> batch = task->get_future();
  prefetcher_->submit([task] { (*task)(); });  // an exception reaches `batch`
  return batch;
}

int64_t DataLoader::batches() const {
  const int64_t b = options_.batch_size * options_.shard_count;
  return options_.drop_last ? count_ / b : (count_ + b - 1) / b;
}

int64_t DataLoader::global_batch_images(int64_t i) const {
  TG_CHECK(i >= 0 && i < batches(), "DataLoader: batch ", i, " out of range [0, ", batches(), ")");
  const int64_t global = options_.batch_size * options_.shard_count;
  return std::min(global, count_ - i * global);
}

void DataLoader::start_epoch(int64_t epoch) {
  if (pending_.valid()) pending_.wait();  // the old batch reads order_
  std::iota(full_order_.begin(), full_order_.end(), 0);
  if (options_.shuffle) {
    uint64_t state = options_.seed * 0x100000001b3ull + static_cast<uint64_t>(epoch);
    for (int64_t i = count_ - 1; i > 0; --i) {
      const auto j = static_cast<int64_t>(splitmix64(state) % static_cast<uint64_t>(i + 1));
      std::swap(full_order_[i], full_order_[j]);
    }
  }
  // Note [loader shards]: this rank's share of every global batch, batch after batch.
  const int64_t w = options_.shard_count, r = options_.shard_rank;
  order_.clear();
  for (int64_t i = 0; i < batches(); ++i) {
    const int64_t first = i * options_.batch_size * w, m = global_batch_images(i);
    const int64_t begin = first + r * (m / w) + std::min(r, m % w);
    const int64_t share = m / w + (r < m % w ? 1 : 0);
    order_.insert(order_.end(), full_order_.begin() + begin, full_order_.begin() + begin + share);
  }
  epoch_ = epoch;
  pending_index_ = -1;
  if (options_.resident) {
    // One upload of the order per epoch; batches are slices of it.
    resident_order_ = from_vector(order_).to(options_.device);
    return;
  }
  if (batches() > 0) {
    pending_ = prefetch([this] { return build(0); });
    pending_index_ = 0;
  }
}

Batch DataLoader::batch(int64_t i) {
  TG_CHECK(i >= 0 && i < batches(), "DataLoader: batch ", i, " out of range [0, ", batches(), ")");
  // Which images a batch holds is chosen on the host: captured into a CUDA graph, every
  // replay would deliver this batch again.
  TG_CHECK(
      !options_.device.is_cuda() || !cuda_backend::stream_capturing(
                                        options_.device.index(), context(options_.device).stream()),
      "DataLoader: batch ", i, " asked for while ", options_.device,
      "'s stream is captured into a CUDA graph (a captured batch would repeat in every "
      "replay); fill the captured step's input from a batch made outside the capture");
  if (options_.resident) return augmented(build_resident(i), i);
  Batch out;
  if (pending_index_ == i && pending_.valid()) {
    out = pending_.get();
  } else {
    if (pending_.valid()) pending_.wait();
    out = build(i);
  }
  pending_index_ = -1;
  if (i + 1 < batches()) {
    pending_ = prefetch([this, i] { return build(i + 1); });
    pending_index_ = i + 1;
  }
  // The device copy is made here, on the caller's thread (the device's stream is its).
  if (dataset_) {
    for (Tensor& t : out.tensors) t = t.to(options_.device);
    out.x = out.tensors[0];
    out.y = out.tensors.size() > 1 ? out.tensors[1] : Tensor();
    return augmented(out, i);
  }
  return augmented({out.x.to(options_.device), out.y.to(options_.device), {}}, i);
}

std::vector<int64_t> DataLoader::batch_indices(int64_t i) const {
  const int64_t first = i * options_.batch_size;
  const int64_t b = std::min(options_.batch_size, static_cast<int64_t>(order_.size()) - first);
  return std::vector<int64_t>(order_.begin() + first, order_.begin() + first + b);
}

Batch DataLoader::build_from_dataset(int64_t i) const {
  const std::vector<int64_t> indices = batch_indices(i);
  Batch batch;
  if (options_.resident) {
    const Tensor idx = resident_order_.slice(
        0, i * options_.batch_size, i * options_.batch_size + static_cast<int64_t>(indices.size()));
    for (const Tensor& t : resident_tensors_) batch.tensors.push_back(index_select(t, 0, idx));
  } else {
    std::vector<Example> examples;
    examples.reserve(indices.size());
    for (int64_t k : indices) examples.push_back(dataset_->get(k));
    batch.tensors = collate(examples, indices);
  }
  batch.x = batch.tensors[0];
  batch.y = batch.tensors.size() > 1 ? batch.tensors[1] : Tensor();
  return batch;
}

Batch DataLoader::build_resident(int64_t i) const {
  if (dataset_) return build_from_dataset(i);
  const int64_t first = i * options_.batch_size;
  const int64_t b = std::min(options_.batch_size, static_cast<int64_t>(order_.size()) - first);
  const Tensor idx = resident_order_.slice(0, first, first + b);
  Shape x_shape{b};
  x_shape.insert(x_shape.end(), example_shape_.begin(), example_shape_.end());
  // The host path's arithmetic exactly: float(pixel)·scale - shift, in float32.
  const double scale = static_cast<float>(1.0 / (255.0 * options_.std));
  const double shift = static_cast<float>(options_.mean / options_.std);
  const Tensor pixels = index_select(resident_images_, 0, idx).to(DType::Float32);
  return {
      sub(mul(pixels, scale), shift).reshape(x_shape), index_select(resident_labels_, 0, idx), {}};
}

Batch DataLoader::augmented(Batch batch, int64_t i) const {
  if (options_.crop_pad == 0 && !options_.flip) return batch;
  // Draws from (seed, epoch) and the batch index, not from a generator: reproducible on
  // resume and independent of the model's random ops.
  uint64_t state = options_.seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(epoch_) + 1;
  const RandomState draws{splitmix64(state),
                          static_cast<uint64_t>(i * options_.shard_count + options_.shard_rank)};
  batch.x = random_crop_flip(batch.x, options_.crop_pad, options_.flip, draws);
  if (!batch.tensors.empty()) batch.tensors[0] = batch.x;
  return batch;
}

namespace {

// One example's pixels as the model reads them, float(pixel)·scale - shift, compiled per
// x86-64 level (TG_ISA_CLONES): the generic build's SSE2 widening of bytes cost ~0.6 ns a pixel
// (3% of an MLP epoch's samples, on the prefetch thread beside the step's two). The same
// bits on every level.
TG_ISA_CLONES void normalised_pixels(const uint8_t* from, int64_t n, float scale, float shift,
                                     float* to) {
  for (int64_t e = 0; e < n; ++e) to[e] = static_cast<float>(from[e]) * scale - shift;
}

}  // namespace

Batch DataLoader::build(int64_t i) const {
  if (dataset_) return build_from_dataset(i);
  const int64_t first = i * options_.batch_size;
  const int64_t b = std::min(options_.batch_size, static_cast<int64_t>(order_.size()) - first);
  Shape x_shape{b};
  x_shape.insert(x_shape.end(), example_shape_.begin(), example_shape_.end());
  Tensor x = empty(x_shape, TensorOptions(DType::Float32));
  Tensor y = empty({b}, TensorOptions(DType::Int64));
  float* xd = x.data_ptr<float>();
  int64_t* yd = y.data_ptr<int64_t>();
  const uint8_t* src = images_.data_ptr<uint8_t>();
  const int64_t* labels = labels_.data_ptr<int64_t>();
  const float scale = static_cast<float>(1.0 / (255.0 * options_.std));
  const float shift = static_cast<float>(options_.mean / options_.std);
  for (int64_t r = 0; r < b; ++r) {
    const int64_t k = order_[static_cast<size_t>(first + r)];
    const uint8_t* from = src + k * example_size_;
    float* to = xd + r * example_size_;
    normalised_pixels(from, example_size_, scale, shift, to);
    yd[r] = labels[k];
  }
  return {x, y, {}};
}

}  // namespace tg::data
