// The host block cache (core/host_cache.h): a freed large block serves the next request of its
// size, small blocks and blocks past the limit are not kept, the held bytes never pass the
// limit (oldest first out), and a limit of 0 or empty_host_cache() returns everything.
#include <gtest/gtest.h>

#include "../../core/factory.h"
#include "../../core/host_cache.h"
#include "../../core/ops.h"

namespace tg {
namespace {

// Sets a limit for one test and puts the previous one back, empty.
class HostCache : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = host_cache_stats().limit_bytes;
    empty_host_cache();
  }
  void TearDown() override {
    empty_host_cache();
    set_host_cache_limit(saved_);
  }
  size_t saved_ = 0;
};

constexpr int64_t kMiB = int64_t(1) << 20;

TEST_F(HostCache, AFreedBlockServesTheNextRequestOfItsSize) {
  set_host_cache_limit(64 * kMiB);
  const void* first = nullptr;
  {
    Tensor t = empty({kMiB / 4}, DType::Float32);  // 1 MiB
    first = t.raw_data_ptr();
  }
  HostCacheStats s = host_cache_stats();
  EXPECT_EQ(s.cached_blocks, 1);
  EXPECT_EQ(s.cached_bytes, size_t(kMiB));
  const int64_t hits = s.hits;
  Tensor again = empty({kMiB / 4}, DType::Float32);
  EXPECT_EQ(again.raw_data_ptr(), first);
  s = host_cache_stats();
  EXPECT_EQ(s.hits, hits + 1);
  EXPECT_EQ(s.cached_blocks, 0);
  EXPECT_EQ(s.cached_bytes, 0u);
  // Another size is not served from it.
  { Tensor other = empty({kMiB / 2}, DType::Float32); }
  Tensor third = empty({kMiB / 8}, DType::Float32);
  EXPECT_EQ(host_cache_stats().cached_blocks, 1);  // the 2 MiB block, still held
  EXPECT_EQ(host_cache_stats().cached_bytes, size_t(2 * kMiB));
}

TEST_F(HostCache, SmallBlocksAndBlocksPastTheLimitAreNotKept) {
  set_host_cache_limit(4 * kMiB);
  { Tensor small = empty({1024}, DType::Float32); }    // 4 KiB
  { Tensor big = empty({2 * kMiB}, DType::Float32); }  // 8 MiB > the limit
  EXPECT_EQ(host_cache_stats().cached_blocks, 0);
  EXPECT_EQ(host_cache_stats().cached_bytes, 0u);
}

TEST_F(HostCache, HeldBytesStayWithinTheLimitOldestFirstOut) {
  set_host_cache_limit(3 * kMiB);
  std::vector<Tensor> live;
  for (int64_t n : {kMiB / 4, kMiB / 4 + 1024, kMiB / 4 + 2048, kMiB / 4 + 3072}) {
    live.push_back(empty({n}, DType::Float32));  // four different sizes of ~1 MiB
  }
  const void* newest = live.back().raw_data_ptr();
  live.clear();  // freed in order: the first is the oldest
  HostCacheStats s = host_cache_stats();
  EXPECT_LE(s.cached_bytes, size_t(3 * kMiB));
  EXPECT_EQ(s.cached_blocks, 2);
  // The newest is among those kept; the first is not.
  Tensor again = empty({kMiB / 4 + 3072}, DType::Float32);
  EXPECT_EQ(again.raw_data_ptr(), newest);
  const int64_t misses = host_cache_stats().misses;
  Tensor oldest = empty({kMiB / 4}, DType::Float32);
  EXPECT_EQ(host_cache_stats().misses, misses + 1);
}

TEST_F(HostCache, ZeroLimitAndEmptyReturnEverything) {
  set_host_cache_limit(64 * kMiB);
  { Tensor t = empty({kMiB}, DType::Float32); }
  EXPECT_EQ(host_cache_stats().cached_blocks, 1);
  empty_host_cache();
  EXPECT_EQ(host_cache_stats().cached_blocks, 0);
  { Tensor t = empty({kMiB}, DType::Float32); }
  set_host_cache_limit(0);
  EXPECT_EQ(host_cache_stats().cached_bytes, 0u);
  { Tensor t = empty({kMiB}, DType::Float32); }
  EXPECT_EQ(host_cache_stats().cached_blocks, 0);
  EXPECT_EQ(host_cache_stats().limit_bytes, 0u);
}

// A reused block holds whatever its last tensor left there: factories that promise values
// write them all.
TEST_F(HostCache, ReusedBlocksAreWrittenByTheFactories) {
  set_host_cache_limit(64 * kMiB);
  { Tensor t = full({kMiB / 4}, 7.0, DType::Float32); }
  Tensor z = zeros({kMiB / 4}, DType::Float32);
  EXPECT_EQ(host_cache_stats().cached_blocks, 0);  // it was reused
  EXPECT_EQ(sum(z).item<float>(), 0.0f);
}

}  // namespace
}  // namespace tg
