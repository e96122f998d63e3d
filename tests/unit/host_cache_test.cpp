// The host block cache (core/host_cache.h): a freed large block serves the next request of its
// size or one a little smaller, small blocks and blocks past the limit are not kept, the held bytes
// never pass the limit (oldest first out), and a limit of 0 or empty_host_cache() returns
// everything.
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
  for (int64_t n : {kMiB / 16, kMiB / 8, kMiB / 4, kMiB / 2}) {
    live.push_back(empty({n}, DType::Float32));  // 256 KiB to 2 MiB: none serves another
  }
  const void* newest = live.back().raw_data_ptr();
  live.clear();  // freed in order: the first is the oldest
  HostCacheStats s = host_cache_stats();
  EXPECT_LE(s.cached_bytes, size_t(3 * kMiB));
  EXPECT_EQ(s.cached_blocks, 2);  // 1 and 2 MiB: the two oldest went
  // The newest is among those kept; the first is not.
  Tensor again = empty({kMiB / 2}, DType::Float32);
  EXPECT_EQ(again.raw_data_ptr(), newest);
  const int64_t misses = host_cache_stats().misses;
  Tensor oldest = empty({kMiB / 16}, DType::Float32);
  EXPECT_EQ(host_cache_stats().misses, misses + 1);
}

// An epoch's last, smaller batch: a request takes the smallest held block at most half as large
// again, which keeps its own size when it comes back.
TEST_F(HostCache, ASmallerRequestTakesTheSmallestBlockUpToHalfAsLargeAgain) {
  set_host_cache_limit(64 * kMiB);
  const void* one_mib = nullptr;
  {
    Tensor larger = empty({kMiB / 4 + kMiB / 16}, DType::Float32);  // 1.25 MiB
    Tensor block = empty({kMiB / 4}, DType::Float32);               // 1 MiB
    one_mib = block.raw_data_ptr();
  }
  ASSERT_EQ(host_cache_stats().cached_blocks, 2);
  int64_t hits = host_cache_stats().hits;
  {
    Tensor batch = empty({kMiB / 4 * 7 / 8}, DType::Float32);  // 7/8 MiB: the 1 MiB block
    EXPECT_EQ(batch.raw_data_ptr(), one_mib);
    EXPECT_EQ(host_cache_stats().hits, hits + 1);
    batch.fill_(3.0);  // all of it usable
    EXPECT_EQ(sum(batch).item<float>(), 3.0f * static_cast<float>(kMiB / 4 * 7 / 8));
  }
  // Back with its own size: a full request finds it again.
  EXPECT_EQ(host_cache_stats().cached_bytes, size_t(2 * kMiB + kMiB / 4));  // both blocks
  {
    Tensor full_size = empty({kMiB / 4}, DType::Float32);
    EXPECT_EQ(full_size.raw_data_ptr(), one_mib);
  }
  // Half a MiB is too small for either block; 0.7 MiB may take the 1 MiB one.
  hits = host_cache_stats().hits;
  const int64_t misses = host_cache_stats().misses;
  { Tensor half = empty({kMiB / 8}, DType::Float32); }
  EXPECT_EQ(host_cache_stats().misses, misses + 1);
  EXPECT_EQ(host_cache_stats().hits, hits);
  Tensor seven_tenths = empty({kMiB / 4 * 7 / 10}, DType::Float32);
  EXPECT_EQ(seven_tenths.raw_data_ptr(), one_mib);
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
