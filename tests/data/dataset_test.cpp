// Datasets in the DataLoader: TensorDataset's examples stacked into batches in the loader's
// order (the same order as the image loader's for a seed), transforms, shards, the
// resident mode bit for bit the host mode, the Trainer fed from a Dataset, and errors that
// name the example and tensor at fault.
#include <gtest/gtest.h>

#include <numeric>

#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../data/data.h"
#include "../../layers/layers.h"
#include "../../optim/optim.h"
#include "../../train/trainer.h"
#include "../support/parity.h"

namespace tg::data {
namespace {

using testing::tensors_bitwise_equal;

// n examples: features (n, 3) float32 with row i = (i, 2i, 3i), targets (n,) int64 = i % 5.
std::shared_ptr<TensorDataset> rows(int64_t n) {
  std::vector<float> f;
  std::vector<int64_t> t;
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 1; k <= 3; ++k) f.push_back(static_cast<float>(k * i));
    t.push_back(i % 5);
  }
  return std::make_shared<TensorDataset>(
      std::vector<Tensor>{from_vector(f, {n, 3}), from_vector(t, {n})});
}

std::vector<int64_t> targets(const Batch& b) {
  const Tensor y = b.y.to(Device::cpu()).contiguous();
  return std::vector<int64_t>(y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + y.numel());
}

TEST(Dataset, BatchesStackTheExamplesInOrder) {
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  DataLoader loader(rows(10), o);
  EXPECT_EQ(loader.size(), 10);
  EXPECT_EQ(loader.batches(), 3);
  loader.start_epoch(1);
  const Batch first = loader.batch(0);
  ASSERT_EQ(first.tensors.size(), 2u);
  EXPECT_EQ(first.x.shape(), (Shape{4, 3}));
  EXPECT_EQ(first.x.dtype(), DType::Float32);  // as given: no normalisation
  EXPECT_TRUE(tensors_bitwise_equal(
      first.x, from_vector<float>({0, 0, 0, 1, 2, 3, 2, 4, 6, 3, 6, 9}, {4, 3})));
  EXPECT_EQ(targets(first), (std::vector<int64_t>{0, 1, 2, 3}));
  const Batch last = loader.batch(2);  // the partial one
  EXPECT_EQ(targets(last), (std::vector<int64_t>{3, 4}));
  o.drop_last = true;
  EXPECT_EQ(DataLoader(rows(10), o).batches(), 2);
}

TEST(Dataset, ShuffledOrderIsTheImageLoadersForTheSameSeed) {
  const int64_t n = 23;
  LoaderOptions o;
  o.batch_size = 5;
  o.seed = 7;
  std::vector<int64_t> labels(n);
  std::iota(labels.begin(), labels.end(), 0);
  DataLoader images(zeros({n, 2, 2}, DType::UInt8), from_vector(labels, {n}), o);
  DataLoader dataset(
      std::make_shared<TensorDataset>(std::vector<Tensor>{zeros({n, 1}), from_vector(labels, {n})}),
      o);
  for (int64_t epoch : {1, 2}) {
    images.start_epoch(epoch);
    dataset.start_epoch(epoch);
    for (int64_t b = 0; b < images.batches(); ++b) {
      EXPECT_EQ(targets(dataset.batch(b)), targets(images.batch(b))) << epoch << "." << b;
    }
  }
}

TEST(Dataset, TransformsApplyToEachExampleInOrder) {
  auto normalise = [](Example e) {
    e[0] = div(sub(e[0], 1.0), 2.0);
    return e;
  };
  auto one_hot_target = [](Example e) {
    e.push_back(one_hot(e[1], 5));  // a third tensor per example
    return e;
  };
  auto data = std::make_shared<TransformedDataset>(rows(6), compose({normalise, one_hot_target}));
  const Example e = data->get(2);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_TRUE(tensors_bitwise_equal(e[0], from_vector<float>({0.5f, 1.5f, 2.5f})));
  LoaderOptions o;
  o.batch_size = 6;
  o.shuffle = false;
  DataLoader loader(data, o);
  loader.start_epoch(1);
  const Batch b = loader.batch(0);
  ASSERT_EQ(b.tensors.size(), 3u);
  EXPECT_EQ(b.tensors[2].shape(), (Shape{6, 5}));
  EXPECT_EQ(sum(b.tensors[2]).item<float>(), 6.0f);
}

TEST(Dataset, ShardsSplitEachGlobalBatchAndResidencyChangesNoBit) {
  LoaderOptions whole;
  whole.batch_size = 6;
  whole.seed = 3;
  DataLoader one(rows(30), whole);
  LoaderOptions shard = whole;
  shard.batch_size = 3;
  shard.shard_count = 2;
  shard.shard_rank = 0;
  DataLoader rank0(rows(30), shard);
  shard.shard_rank = 1;
  DataLoader rank1(rows(30), shard);
  LoaderOptions resident = whole;
  resident.resident = true;  // on the CPU device: the resident path all the same
  DataLoader kept(rows(30), resident);
  one.start_epoch(4);
  rank0.start_epoch(4);
  rank1.start_epoch(4);
  kept.start_epoch(4);
  for (int64_t b = 0; b < one.batches(); ++b) {
    const Batch all = one.batch(b);
    std::vector<int64_t> joined = targets(rank0.batch(b));
    const std::vector<int64_t> second = targets(rank1.batch(b));
    joined.insert(joined.end(), second.begin(), second.end());
    EXPECT_EQ(joined, targets(all)) << b;
    const Batch same = kept.batch(b);
    EXPECT_TRUE(tensors_bitwise_equal(same.x, all.x)) << b;
    EXPECT_TRUE(tensors_bitwise_equal(same.y, all.y)) << b;
  }
}

TEST(Dataset, TheTrainerFitsAModelFromADataset) {
  // y = class of the first feature's sign, learnable by one linear layer.
  const int64_t n = 256;
  Generator g(1);
  const Tensor x = randn({n, 4}, DType::Float32, &g);
  const Tensor y = gt(x.select(1, 0), zeros({})).to(DType::Int64);
  LoaderOptions o;
  o.batch_size = 32;
  DataLoader loader(std::make_shared<TensorDataset>(std::vector<Tensor>{x, y}), o);
  layers::Linear model(4, 2);
  optim::Adam opt(model.parameters(), optim::AdamParams{0.05});
  train::TrainerOptions options;
  options.epochs = 5;
  train::Trainer trainer(model, opt, train::cross_entropy_loss(), options);
  trainer.fit(loader);
  EXPECT_GT(trainer.evaluate(loader).accuracy(), 0.95);
}

TEST(Dataset, ExamplesThatDoNotStackAreNamed) {
  struct Ragged : Dataset {
    int64_t size() const override { return 4; }
    Example get(int64_t i) const override { return {zeros({i == 2 ? 3 : 2}), zeros({})}; }
  };
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  DataLoader loader(std::make_shared<Ragged>(), o);
  loader.start_epoch(1);
  const std::string message = testing::error_of([&] { loader.batch(0); });
  EXPECT_NE(message.find("tensor 0 of example 2 is float32 [3]"), std::string::npos) << message;
  EXPECT_NE(testing::error_of([] {
              TensorDataset(std::vector<Tensor>{zeros({3, 2}), zeros({4})});
            }).find("tensor 1 has 4 examples"),
            std::string::npos);
  LoaderOptions crop;
  crop.crop_pad = 2;
  EXPECT_NE(testing::error_of([&] {
              DataLoader(rows(4), crop);
            }).find("crop and flip need a floating (C, H, W) first tensor"),
            std::string::npos);
  EXPECT_THROW(DataLoader(std::shared_ptr<const Dataset>(), o), Error);
  struct Empty : Dataset {
    int64_t size() const override { return 2; }
    Example get(int64_t) const override { return {}; }
  };
  DataLoader empty(std::make_shared<Empty>(), o);
  empty.start_epoch(1);
  EXPECT_NE(testing::error_of([&] { empty.batch(0); }).find("example 0 has no tensors"),
            std::string::npos);
}

}  // namespace
}  // namespace tg::data
