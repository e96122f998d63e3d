// The all-reduce's fixed order and DataParallel's gradient buckets (Note [bitwise-equal
// all-reduce], Note [gradient buckets]), under mpirun -np 2 and 4 and alone: each element
// summed in rank order whatever the slicing; any bucket size, with or without overlap,
// giving the bits of one bucket per buffer; buckets started by backward; a parameter no
// backward reaches; a second backward after prepare_for_backward refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../distributed/data_parallel.h"
#include "../../layers/layers.h"
#include "../../optim/adam.h"
#include "../support/parity.h"
#include "world.h"

namespace tg {
namespace {

using testing::world;

// Rank k's values: a wide range of magnitudes, so that another order of the additions
// rounds differently (with three or more ranks).
Tensor values_of(int k, int64_t n) {
  Generator gen(100 + static_cast<uint64_t>(k));
  return mul(randn({n}, {}, &gen), exp(mul(randn({n}, {}, &gen), 6.0)));
}

TEST(ProcessGroup, AllReduceSumsInRankOrderWhateverTheSlicing) {
  TG_REQUIRE_MPI();
  auto& g = *world();
  const int w = g.world_size();
  for (const int64_t n : {int64_t{1}, int64_t{3}, int64_t{1001}}) {
    // ((x0 + x1) + x2) + ..., in float32, computed here from every rank's values.
    Tensor expected = values_of(0, n).clone();
    for (int k = 1; k < w; ++k) {
      float* e = expected.data_ptr<float>();
      const Tensor x = values_of(k, n);
      for (int64_t j = 0; j < n; ++j) e[j] = e[j] + x.data_ptr<float>()[j];
    }
    Tensor whole = values_of(g.rank(), n).clone();
    g.all_reduce(whole);
    EXPECT_TRUE(testing::tensors_bitwise_equal(whole, expected)) << n << " elements";
    Tensor pieces = values_of(g.rank(), n).clone();
    for (const auto& [begin, end] :
         std::vector<std::pair<int64_t, int64_t>>{{0, n / 3}, {n / 3, n / 3 + 1}, {n / 3 + 1, n}}) {
      g.all_reduce(pieces.slice(0, begin, end));
    }
    EXPECT_TRUE(testing::tensors_bitwise_equal(pieces, expected)) << n << " elements, in pieces";
  }
}

// Three layers and a parameter no forward uses, trained with Adam on each rank's own data.
struct Net {
  std::shared_ptr<layers::Sequential> model;
  Tensor unused;
  std::unique_ptr<optim::Adam> opt;
  explicit Net(int rank, const Device& device = Device::cpu()) {
    manual_seed(5);
    model = layers::sequential({layers::make<layers::Linear>(16, 24), layers::make<layers::ReLU>(),
                                layers::make<layers::Linear>(24, 20), layers::make<layers::ReLU>(),
                                layers::make<layers::Linear>(20, 3)});
    model->to(device);
    unused = full({7}, 1.0 + rank, TensorOptions().device(device));  // rank 0's must win
    unused.requires_grad_();
    std::vector<Tensor> params = model->parameters();
    params.insert(params.begin() + 2, unused);
    opt = std::make_unique<optim::Adam>(params);
  }
};

struct Trained {
  std::vector<Tensor> params;
  std::vector<distributed::ReduceStats> stats;
  size_t buckets = 0;
};

Trained train(const distributed::DataParallelOptions& options,
              std::shared_ptr<distributed::ProcessGroup> group = world(),
              const Device& device = Device::cpu()) {
  Net net(group->rank(), device);
  distributed::DataParallel dp(group, *net.opt, {}, options);
  Trained run;
  run.buckets = dp.buckets().size();
  Generator gen(40 + static_cast<uint64_t>(group->rank()));
  for (int step = 0; step < 3; ++step) {
    const Tensor x = randn({9, 16}, {}, &gen).to(device);
    const Tensor y = (rand({9}, {}, &gen) * 2.999).to(DType::Int64).to(device);
    net.opt->zero_grad();
    dp.prepare_for_backward();
    cross_entropy((*net.model)(x), y).backward();
    dp.reduce_gradients();
    run.stats.push_back(dp.last_reduce());
    net.opt->step();
  }
  EXPECT_TRUE(dp.parameters_agree());
  for (const Tensor& p : net.opt->flat_groups().front().members)
    run.params.push_back(p.to(Device::cpu()));
  return run;
}

TEST(DataParallel, AnyBucketSizeGivesTheBitsOfOneBucketPerBuffer) {
  TG_REQUIRE_MPI();
  distributed::DataParallelOptions whole;
  whole.bucket_bytes = whole.first_bucket_bytes = INT64_MAX;
  whole.overlap = false;
  const Trained reference = train(whole);
  EXPECT_EQ(reference.buckets, 1u);
  EXPECT_EQ(reference.stats.back().started_in_backward, 0);

  distributed::DataParallelOptions each;  // one parameter per bucket
  each.bucket_bytes = each.first_bucket_bytes = 1;
  distributed::DataParallelOptions some;  // the last layer alone first, then ~1 KB
  some.first_bucket_bytes = 300;
  some.bucket_bytes = 1024;
  distributed::DataParallelOptions after = each;
  after.overlap = false;
  for (const auto& [name, options, buckets] :
       std::vector<std::tuple<const char*, distributed::DataParallelOptions, size_t>>{
           {"one parameter each", each, 7},
           {"300 B then 1 KiB", some, 5},
           {"no overlap", after, 7}}) {
    const Trained run = train(options);
    EXPECT_EQ(run.buckets, buckets) << name;
    ASSERT_EQ(run.params.size(), reference.params.size());
    for (size_t k = 0; k < run.params.size(); ++k) {
      EXPECT_TRUE(testing::tensors_bitwise_equal(run.params[k], reference.params[k]))
          << name << ", parameter " << k;
    }
    const distributed::ReduceStats& last = run.stats.back();
    EXPECT_EQ(last.buckets, static_cast<int>(buckets)) << name;
    // Backward starts every bucket but those after the unused parameter's (bucket order).
    if (options.overlap) {
      EXPECT_GT(last.started_in_backward, 0) << name;
      EXPECT_LT(last.started_in_backward, last.buckets) << name;
    } else {
      EXPECT_EQ(last.started_in_backward, 0) << name;
    }
  }
}

TEST(DataParallel, ASecondBackwardAfterPrepareIsRefused) {
  TG_REQUIRE_MPI();
  auto group = world();
  Net net(group->rank());
  distributed::DataParallelOptions each;
  each.bucket_bytes = each.first_bucket_bytes = 1;
  distributed::DataParallel dp(group, *net.opt, {}, each);
  const Tensor x = ones({2, 16}), y = zeros({2}, TensorOptions(DType::Int64));
  net.opt->zero_grad();
  dp.prepare_for_backward();
  cross_entropy((*net.model)(x), y).backward();
  const std::string message =
      testing::error_of([&] { cross_entropy((*net.model)(x), y).backward(); });
  EXPECT_NE(message.find("only one backward may follow prepare_for_backward()"), std::string::npos)
      << message;
  dp.reduce_gradients();  // the started buckets end; the ranks stay in step
  EXPECT_NE(testing::error_of([&] {
              distributed::DataParallelOptions zero;
              zero.bucket_bytes = 0;
              distributed::DataParallel bad(group, *net.opt, {}, zero);
            }).find("bucket sizes must be positive"),
            std::string::npos);
}

// On a GPU the buckets run on the NCCL group's own stream, forked after their gradients and
// joined before the step: the same bits as whole buffers (a world of one per GPU here, or
// two ranks: a + b = b + a whatever NCCL's chunks).
TEST(NcclGroup, BucketsOnTheirOwnStreamGiveTheBitsOfWholeBuffers) {
  TG_REQUIRE_CUDA();
  if (!distributed::nccl_compiled()) GTEST_SKIP() << "NCCL was not compiled in";
  const int rank = distributed::mpi_compiled() ? world()->rank() : 0;
  const int ranks = distributed::mpi_compiled() ? world()->world_size() : 1;
  if (cuda_device_count() < ranks || ranks > 2)
    GTEST_SKIP() << "needs one GPU per rank and at most 2 ranks";
  const Device device = Device::cuda(rank);
  auto group = distributed::nccl_group(device);
  distributed::DataParallelOptions whole;
  whole.bucket_bytes = whole.first_bucket_bytes = INT64_MAX;
  whole.overlap = false;
  distributed::DataParallelOptions each;
  each.bucket_bytes = each.first_bucket_bytes = 1;
  const Trained a = train(whole, group, device), b = train(each, group, device);
  EXPECT_EQ(b.buckets, 7u);
  EXPECT_EQ(b.stats.back().started_in_backward, 4);  // up to the unused parameter's bucket
  for (size_t k = 0; k < a.params.size(); ++k)
    EXPECT_TRUE(testing::tensors_bitwise_equal(b.params[k], a.params[k])) << "parameter " << k;
}

}  // namespace
}  // namespace tg
