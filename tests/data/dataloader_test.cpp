// DataLoader: batch counts, drop_last, normalisation, seeded and per-epoch shuffling that
// visits every example once, random access; the resident mode bit for bit equal to the
// host mode, augmentation reproducible per (seed, epoch, batch) in both modes.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../data/dataloader.h"
#include "../support/parity.h"

namespace tg::data {
namespace {

// 10 "images" of 2x2 whose pixels all equal their index; labels = index.
std::pair<Tensor, Tensor> tiny_set() {
  Tensor images = empty({10, 2, 2}, DType::UInt8), labels = empty({10}, DType::Int64);
  for (int64_t i = 0; i < 10; ++i) {
    for (int p = 0; p < 4; ++p) images.data_ptr<uint8_t>()[i * 4 + p] = static_cast<uint8_t>(i);
    labels.data_ptr<int64_t>()[i] = i;
  }
  return {images, labels};
}

std::vector<int64_t> epoch_labels(DataLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<int64_t> out;
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const Batch batch = loader.batch(b);
    for (int64_t i = 0; i < batch.y.numel(); ++i) out.push_back(batch.y.data_ptr<int64_t>()[i]);
  }
  return out;
}

TEST(DataLoader, BatchesNormalizesAndShufflesReproducibly) {
  auto [images, labels] = tiny_set();
  LoaderOptions options;
  options.batch_size = 4;
  options.seed = 7;
  options.mean = 0.5;
  options.std = 2.0;
  DataLoader loader(images, labels, options);
  EXPECT_EQ(loader.batches(), 3);
  loader.start_epoch(0);
  const Batch last = loader.batch(2);
  EXPECT_EQ(last.x.shape(), (Shape{2, 1, 2, 2}));  // a channel dimension is added
  const int64_t k = last.y.data_ptr<int64_t>()[0];
  EXPECT_FLOAT_EQ(last.x.data_ptr<float>()[0], static_cast<float>((k / 255.0 - 0.5) / 2.0));

  const std::vector<int64_t> first = epoch_labels(loader, 1);
  EXPECT_EQ(std::set<int64_t>(first.begin(), first.end()).size(), 10u);  // each once
  EXPECT_EQ(epoch_labels(loader, 1), first);                             // epoch seeds repeat
  EXPECT_NE(epoch_labels(loader, 2), first);
  DataLoader same(images, labels, options);
  EXPECT_EQ(epoch_labels(same, 1), first);  // so does a new loader with the seed

  options.drop_last = true;
  options.shuffle = false;
  DataLoader dropping(images, labels, options);
  EXPECT_EQ(dropping.batches(), 2);
  EXPECT_EQ(epoch_labels(dropping, 0), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  dropping.start_epoch(0);
  EXPECT_EQ(dropping.batch(1).y.data_ptr<int64_t>()[0], 4);  // out of order is fine
  EXPECT_THROW(dropping.batch(2), Error);
}

// 37 random 6x5 images (a partial last batch for batch sizes 8 and 16).
std::pair<Tensor, Tensor> random_set() {
  Generator g(6);
  const Tensor images = uniform({37, 6, 5}, 0, 256, DType::Float64, &g).to(DType::UInt8);
  const Tensor labels = uniform({37}, 0, 10, DType::Float64, &g).to(DType::Int64);
  return {images, labels};
}

std::vector<Batch> epoch(DataLoader& loader, int64_t e) {
  loader.start_epoch(e);
  std::vector<Batch> out;
  for (int64_t b = 0; b < loader.batches(); ++b) out.push_back(loader.batch(b));
  return out;
}

void expect_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(testing::tensors_bitwise_equal(a[i].x, b[i].x)) << "batch " << i;
    EXPECT_TRUE(testing::tensors_bitwise_equal(a[i].y, b[i].y)) << "batch " << i;
  }
}

TEST(DataLoader, ResidentModeGivesTheHostModesBatchesBitForBit) {
  auto [images, labels] = random_set();
  for (bool augment : {false, true}) {
    LoaderOptions host;
    host.batch_size = 8;
    host.seed = 3;
    host.crop_pad = augment ? 2 : 0;
    host.flip = augment;
    LoaderOptions resident = host;
    resident.resident = true;
    DataLoader a(images, labels, host), b(images, labels, resident);
    for (int64_t e : {0, 1}) expect_same(epoch(a, e), epoch(b, e));
  }
}

TEST(DataLoader, AugmentationIsReproduciblePerEpochAndBatch) {
  auto [images, labels] = random_set();
  LoaderOptions plain;
  plain.batch_size = 16;
  plain.seed = 5;
  LoaderOptions augmenting = plain;
  augmenting.crop_pad = 1;
  augmenting.flip = true;
  DataLoader p(images, labels, plain), a(images, labels, augmenting),
      again(images, labels, augmenting);
  const std::vector<Batch> clean = epoch(p, 1), first = epoch(a, 1);
  expect_same(epoch(again, 1), first);  // same seed, epoch and batch: same draws
  for (size_t i = 0; i < clean.size(); ++i) {
    EXPECT_TRUE(testing::tensors_bitwise_equal(first[i].y, clean[i].y));
    EXPECT_FALSE(testing::tensors_bitwise_equal(first[i].x, clean[i].x)) << "batch " << i;
  }
  // Another epoch draws again: with 37 images, some sample moves differently.
  const std::vector<Batch> second = epoch(a, 2), clean2 = epoch(p, 2);
  bool differs = false;
  for (size_t i = 0; i < second.size(); ++i) {
    const Tensor diff_now = sub(second[i].x, clean2[i].x);
    const Tensor diff_before = sub(first[i].x, clean[i].x);
    differs |= !testing::tensors_bitwise_equal(diff_now, diff_before);
  }
  EXPECT_TRUE(differs);
  LoaderOptions flat = augmenting;
  EXPECT_NE(testing::error_of([&] {
              DataLoader(images.reshape({37, 30}), labels, flat);
            })
                .find("DataLoader: crop and flip need images (N, H, W) or (N, C, H, W), got shape "
                      "[37, 30]"),
            std::string::npos);
}

// Note [loader shards], all ranks simulated in one process (the MPI version:
// tests/distributed/): for each batch the ranks' shares, in rank order, are the combined
// loader's batch; every image once per epoch; bad set-ups named.
TEST(DataLoader, ShardsSplitEachGlobalBatchAmongTheRanks) {
  const int64_t n = 29, batch = 4, ranks = 3;
  const Tensor images = zeros({n, 2, 2}, TensorOptions(DType::UInt8));
  const Tensor labels = arange(0, static_cast<double>(n), 1, TensorOptions(DType::Int64));
  LoaderOptions combined_options;
  combined_options.batch_size = batch * ranks;
  combined_options.seed = 9;
  DataLoader combined(images, labels, combined_options);
  std::vector<std::unique_ptr<DataLoader>> shards;
  for (int64_t r = 0; r < ranks; ++r) {
    LoaderOptions o = combined_options;
    o.batch_size = batch;
    o.shard_rank = r;
    o.shard_count = ranks;
    shards.push_back(std::make_unique<DataLoader>(images, labels, o));
    ASSERT_EQ(shards.back()->batches(), combined.batches());  // 3: 12, 12 and 5 images
  }
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    combined.start_epoch(epoch);
    for (auto& s : shards) s->start_epoch(epoch);
    std::multiset<int64_t> seen;
    for (int64_t i = 0; i < combined.batches(); ++i) {
      std::vector<int64_t> shares;
      for (auto& s : shards) {
        const Tensor y = s->batch(i).y;
        EXPECT_GE(y.numel(), 1) << "every rank gets an image";
        shares.insert(shares.end(), y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + y.numel());
        EXPECT_EQ(s->global_batch_images(i), combined.global_batch_images(i));
      }
      const Tensor whole = combined.batch(i).y;
      EXPECT_EQ(shares, std::vector<int64_t>(whole.data_ptr<int64_t>(),
                                             whole.data_ptr<int64_t>() + whole.numel()))
          << "epoch " << epoch << ", batch " << i;
      seen.insert(shares.begin(), shares.end());
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) EXPECT_EQ(seen.count(k), 1u) << "image " << k;
  }
  LoaderOptions bad = combined_options;
  bad.batch_size = batch;
  bad.shard_count = ranks;
  bad.shard_rank = 3;
  EXPECT_NE(testing::error_of([&] {
              DataLoader l(images, labels, bad);
            }).find("shard_rank must be in [0, shard_count = 3), got 3"),
            std::string::npos);
  bad.shard_rank = 0;
  const Tensor few = images.slice(0, 0, 25), few_labels = labels.slice(0, 0, 25);
  EXPECT_NE(testing::error_of([&] {
              DataLoader l(few, few_labels, bad);
            }).find("has 1 examples for 3 shards, and every shard needs one"),
            std::string::npos);
  bad.drop_last = true;  // the short last global batch is dropped on every rank
  DataLoader dropped(few, few_labels, bad);
  EXPECT_EQ(dropped.batches(), 2);
}

TEST(DataLoader, RejectsMismatchedInputs) {
  auto [images, labels] = tiny_set();
  LoaderOptions options;
  EXPECT_THROW(DataLoader(images, labels.slice(0, 0, 9), options), Error);
  EXPECT_THROW(DataLoader(images.to(DType::Float32), labels, options), Error);
  // Float labels: the message says what it got, not only what it wanted.
  const std::string m =
      testing::error_of([&] { DataLoader(images, labels.to(DType::Float32), options); });
  EXPECT_NE(m.find("labels must be int64 (N,) on the CPU with N = 10, got float32 [10] on cpu "
                   "(class indices: convert with labels.to(DType::Int64))"),
            std::string::npos)
      << m;
  options.batch_size = 0;
  EXPECT_THROW(DataLoader(images, labels, options), Error);
}

}  // namespace
}  // namespace tg::data
