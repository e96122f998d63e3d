// DataLoader: batch counts, drop_last, normalisation, seeded and per-epoch shuffling that
// visits every example once, random access.
#include <gtest/gtest.h>

#include <set>

#include "tamegrad/core/factory.h"
#include "tamegrad/data/dataloader.h"

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

TEST(DataLoader, BatchesNormalisesAndShufflesReproducibly) {
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

TEST(DataLoader, RejectsMismatchedInputs) {
  auto [images, labels] = tiny_set();
  LoaderOptions options;
  EXPECT_THROW(DataLoader(images, labels.slice(0, 0, 9), options), Error);
  EXPECT_THROW(DataLoader(images.to(DType::Float32), labels, options), Error);
  options.batch_size = 0;
  EXPECT_THROW(DataLoader(images, labels, options), Error);
}

}  // namespace
}  // namespace tg::data
