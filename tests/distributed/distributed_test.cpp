// Data-parallel training on MPI (label `distributed`; CTest runs this program under
// `mpirun -np 2`, and alone as a world of one): the collectives, the loader's shards (every
// image once per epoch, the shares of a batch being the combined batch), ranks that end
// with bitwise-equal parameters equal to one process trained on the combined batch, a
// non-finite gradient on one rank skipping the step on every rank, and a rank that built
// another model refused on every rank. Without MPI compiled in every case skips, saying so.
// The time-out and dying-rank set-ups end the job, so they run as separate programs:
// tests/scripts/distributed_programs_test.sh. The gradient buckets: buckets_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../data/dataloader.h"
#include "../../distributed/data_parallel.h"
#include "../../layers/layers.h"
#include "../../optim/sgd.h"
#include "../support/parity.h"
#include "world.h"

namespace tg {
namespace {

using distributed::ProcessGroup;

using testing::world;

TEST(ProcessGroup, CollectivesGiveEveryRankTheSameValues) {
  TG_REQUIRE_MPI();
  ProcessGroup& g = *world();
  const int r = g.rank(), w = g.world_size();
  EXPECT_EQ(g.backend(), "mpi");
  Tensor f = from_vector(std::vector<float>{1.5f + r, -2.0f * r, 0.25f}, {3});
  g.all_reduce(f);
  const double n = w;
  EXPECT_TRUE(testing::tensors_close(
      f,
      from_vector(
          std::vector<float>{static_cast<float>(1.5 * n + n * (n - 1) / 2),
                             static_cast<float>(-n * (n - 1)), static_cast<float>(0.25 * n)},
          {3}),
      0, 0));
  Tensor d = full({4}, 1.0 + r, TensorOptions(DType::Float64));
  g.all_reduce(d, distributed::ReduceOp::Mean);
  EXPECT_TRUE(
      testing::tensors_close(d, full({4}, (n + 1) / 2, TensorOptions(DType::Float64)), 0, 0));
  Tensor i = full({2}, 10 * (r + 1), TensorOptions(DType::Int64));
  g.all_reduce(i);
  EXPECT_EQ(i.data_ptr<int64_t>()[1], 10 * w * (w + 1) / 2);
  Tensor b = full({5}, r, TensorOptions(DType::Float32));
  g.broadcast(b, w - 1);
  EXPECT_TRUE(testing::tensors_close(b, full({5}, w - 1.0), 0, 0));
  g.barrier();
  const std::vector<int64_t> gathered = g.all_gather({r, 7});
  ASSERT_EQ(gathered.size(), static_cast<size_t>(2 * w));
  for (int k = 0; k < w; ++k) EXPECT_EQ(gathered[2 * k], k);
  EXPECT_EQ(g.broadcast_values({r + 0.5}, 0), std::vector<double>{0.5});
  EXPECT_NE(testing::error_of([&] {
              g.all_reduce(zeros({4}).slice(0, 0, 4, 2));
            }).find("contiguous CPU tensor"),
            std::string::npos);
}

// Images whose label is their index, so a batch's labels say which images it holds.
struct IndexedData {
  Tensor images, labels;
  explicit IndexedData(int64_t n) {
    images = zeros({n, 2, 2}, TensorOptions(DType::UInt8));
    labels = arange(0, static_cast<double>(n), 1, TensorOptions(DType::Int64));
  }
};

TEST(ShardedLoader, EveryImageOnceAndTheSharesMakeTheCombinedBatch) {
  TG_REQUIRE_MPI();
  ProcessGroup& g = *world();
  const int64_t n = 107, batch = 5, w = g.world_size();  // a last batch for up to 7 ranks
  IndexedData data(n);
  data::LoaderOptions shard;
  shard.batch_size = batch;
  shard.seed = 4;
  shard.shard_rank = g.rank();
  shard.shard_count = w;
  data::LoaderOptions combined = shard;
  combined.batch_size = batch * w;
  combined.shard_rank = 0;
  combined.shard_count = 1;
  data::DataLoader mine(data.images, data.labels, shard), whole(data.images, data.labels, combined);
  ASSERT_EQ(mine.batches(), whole.batches());
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    mine.start_epoch(epoch);
    whole.start_epoch(epoch);
    Tensor seen = zeros({n}, TensorOptions(DType::Int64));
    for (int64_t i = 0; i < mine.batches(); ++i) {
      const Tensor y = mine.batch(i).y;
      std::vector<int64_t> padded(static_cast<size_t>(batch), -1);
      for (int64_t k = 0; k < y.numel(); ++k) {
        const int64_t image = y.data_ptr<int64_t>()[k];
        padded[static_cast<size_t>(k)] = image;
        seen.data_ptr<int64_t>()[image] += 1;
      }
      std::vector<int64_t> shares;
      for (int64_t v : g.all_gather(padded)) {
        if (v >= 0) shares.push_back(v);
      }
      const Tensor expected = whole.batch(i).y;
      EXPECT_EQ(shares, std::vector<int64_t>(expected.data_ptr<int64_t>(),
                                             expected.data_ptr<int64_t>() + expected.numel()))
          << "epoch " << epoch << ", batch " << i;
      EXPECT_EQ(mine.global_batch_images(i), expected.numel());
    }
    g.all_reduce(seen);
    EXPECT_TRUE(testing::tensors_close(seen, ones({n}, TensorOptions(DType::Int64)), 0, 0))
        << "every image once per epoch";
  }
}

// A small classifier on random 4x4 images; rank-dependent initial values that the
// DataParallel broadcast must overwrite.
struct Trainee {
  std::shared_ptr<layers::Sequential> model;
  std::unique_ptr<optim::SGD> opt;
  explicit Trainee(double perturb) {
    manual_seed(1);
    model =
        layers::sequential({layers::make<layers::Flatten>(), layers::make<layers::Linear>(16, 12),
                            layers::make<layers::ReLU>(), layers::make<layers::Linear>(12, 3)});
    NoGradGuard no_grad;
    for (Tensor p : model->parameters()) p.copy_(add(p, perturb));
    optim::SGDParams hyper;
    hyper.lr = 0.2;
    hyper.momentum = 0.9;
    opt = std::make_unique<optim::SGD>(model->parameters(), hyper);
  }
};

struct Data {
  Tensor images, labels;
  Data() {
    Generator gen(8);
    images = (rand({90, 4, 4}, {}, &gen) * 255).to(DType::UInt8);
    labels = (rand({90}, {}, &gen) * 2.999).to(DType::Int64);
  }
};

TEST(DataParallel, RanksEndBitwiseEqualAndEqualToOneProcessOnTheCombinedBatch) {
  TG_REQUIRE_MPI();
  auto group = world();
  const int64_t w = group->world_size(), batch = 7;
  Data data;
  Trainee parallel(0.01 * group->rank()), single(0.0);
  distributed::DataParallel dp(group, *parallel.opt, parallel.model->named_buffers());
  data::LoaderOptions options;
  options.batch_size = batch;
  options.seed = 2;
  options.shard_rank = group->rank();
  options.shard_count = w;
  data::DataLoader shard(data.images, data.labels, options);
  options.batch_size = batch * w;
  options.shard_rank = 0;
  options.shard_count = 1;
  data::DataLoader combined(data.images, data.labels, options);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    shard.start_epoch(epoch);
    combined.start_epoch(epoch);
    for (int64_t i = 0; i < shard.batches(); ++i) {
      const data::Batch mine = shard.batch(i);
      parallel.opt->zero_grad();
      div(cross_entropy((*parallel.model)(mine.x), mine.y, Reduction::Sum),
          static_cast<double>(shard.global_batch_images(i)))
          .backward();
      dp.reduce_gradients();
      parallel.opt->clip_grad_norm(5.0);
      parallel.opt->step();

      const data::Batch all = combined.batch(i);
      single.opt->zero_grad();
      cross_entropy((*single.model)(all.x), all.y).backward();
      single.opt->clip_grad_norm(5.0);
      single.opt->step();
    }
  }
  EXPECT_TRUE(dp.parameters_agree()) << "every rank holds the same bits";
  const auto a = parallel.model->parameters(), b = single.model->parameters();
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_TRUE(testing::tensors_close(a[k], b[k], 1e-6, 1e-5)) << "parameter " << k;
  }
}

TEST(DataParallel, ANonFiniteGradientOnOneRankSkipsTheStepOnEveryRank) {
  TG_REQUIRE_MPI();
  auto group = world();
  Data data;
  Trainee run(0.0);
  distributed::DataParallel dp(group, *run.opt);
  const Tensor x = data.images.slice(0, 0, 8).to(DType::Float32), y = data.labels.slice(0, 0, 8);
  for (int step = 0; step < 2; ++step) {
    const bool poison = step == 1 && group->rank() == group->world_size() - 1;
    const std::vector<Tensor> before = [&] {
      std::vector<Tensor> copies;
      for (const Tensor& p : run.model->parameters()) copies.push_back(p.detach().clone());
      return copies;
    }();
    run.opt->zero_grad();
    Tensor loss = cross_entropy((*run.model)(x), y);
    if (poison) loss = mul(loss, std::nan(""));
    loss.backward();
    dp.reduce_gradients(distributed::ReduceOp::Mean);
    run.opt->clip_grad_norm(1.0);
    run.opt->step();
    EXPECT_EQ(run.opt->last_step_skipped(), step == 1) << "rank " << group->rank();
    const auto now = run.model->parameters();
    for (size_t k = 0; k < now.size(); ++k) {
      EXPECT_EQ(testing::tensors_bitwise_equal(now[k].detach(), before[k]), step == 1) << k;
    }
  }
  EXPECT_EQ(run.opt->steps(), 1);
  EXPECT_TRUE(dp.parameters_agree());
}

TEST(DataParallel, RanksWithDifferentModelsAreRefusedOnEveryRank) {
  TG_REQUIRE_MPI();
  auto group = world();
  if (group->world_size() < 2) GTEST_SKIP() << "needs two ranks (mpirun -np 2)";
  manual_seed(0);
  layers::Linear model(4, group->rank() == 0 ? 3 : 5);
  optim::SGD opt(model.parameters());
  const std::string message = testing::error_of([&] { distributed::DataParallel dp(group, opt); });
  EXPECT_NE(message.find("rank 0: 15 parameters in 2 tensors"), std::string::npos) << message;
  EXPECT_NE(message.find("rank 1: 25 parameters in 2 tensors"), std::string::npos) << message;
}

TEST(NcclGroup, AllReducesOnTheGpu) {
  TG_REQUIRE_CUDA();
  if (!distributed::nccl_compiled()) GTEST_SKIP() << "NCCL was not compiled in";
  // Without MPI the NCCL group is a world of this one process.
  const int rank = distributed::mpi_compiled() ? world()->rank() : 0;
  const int ranks = distributed::mpi_compiled() ? world()->world_size() : 1;
  const int gpus = cuda_device_count();
  if (gpus < ranks)
    GTEST_SKIP() << "NCCL needs one GPU per rank: " << gpus << " GPU(s) for " << ranks << " ranks";
  const Device device = Device::cuda(rank);
  auto group = distributed::nccl_group(device);
  Tensor t = full({1000}, 1.0 + group->rank(), TensorOptions(DType::Float32).device(device));
  group->all_reduce(t);
  const double w = group->world_size();
  EXPECT_TRUE(testing::tensors_close(t, full({1000}, w * (w + 1) / 2), 0, 0));
  group->broadcast(t, 0);
  group->barrier();
}

// Two ranks given one GPU (rank % count on a host with fewer GPUs than processes) are
// refused on every rank before NCCL starts, instead of deadlocking inside it.
TEST(NcclGroup, TwoRanksOnOneGpuAreRefusedBeforeNcclStarts) {
  TG_REQUIRE_CUDA();
  if (!distributed::nccl_compiled()) GTEST_SKIP() << "NCCL was not compiled in";
  if (!distributed::mpi_compiled() || world()->world_size() < 2)
    GTEST_SKIP() << "needs two ranks (mpirun -np 2)";
  const std::string m = testing::error_of([] { distributed::nccl_group(Device::cuda(0)); });
  EXPECT_NE(m.find("distributed: ranks 0 and 1 were given the same GPU on one host"),
            std::string::npos)
      << m;
}

}  // namespace
}  // namespace tg

// Every rank runs every test and prints its results; the exit code ends the MPI job (a
// failure on any rank aborts the others: distributed::finish).
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return tg::distributed::finish(RUN_ALL_TESTS());
}
