// kernels/plan_cache.h, the bounded cache behind conv2d's cuDNN plans: it keeps at most its
// capacity, evicts the least recently used, keeps nothing when making a plan throws, and a
// plan still held by a caller outlives its eviction.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "../../kernels/plan_cache.h"

namespace tg::kernels {
namespace {

struct Plan {
  explicit Plan(int k) : key(k) { ++alive; }
  ~Plan() { --alive; }
  int key;
  int uses = 0;
  static int alive;
};
int Plan::alive = 0;

std::shared_ptr<Plan> make(int k, int* made) {
  ++*made;
  return std::make_shared<Plan>(k);
}

TEST(PlanCache, KeepsAtMostItsCapacityAndEvictsTheLeastRecentlyUsed) {
  PlanCache<int, Plan> cache(3);
  int made = 0;
  for (int k : {1, 2, 3}) cache.get(k, [&] { return make(k, &made); });
  cache.get(1, [&] { return make(1, &made); });  // 1 is now the most recent; 2 the least
  EXPECT_EQ(made, 3);
  cache.get(4, [&] { return make(4, &made); });  // evicts 2
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(Plan::alive, 3);
  cache.get(1, [&] { return make(1, &made); });
  cache.get(3, [&] { return make(3, &made); });
  EXPECT_EQ(made, 4) << "1 and 3 were kept";
  cache.get(2, [&] { return make(2, &made); });
  EXPECT_EQ(made, 5) << "2 was evicted and is made again";
  for (int k = 10; k < 1000; ++k) cache.get(k, [&] { return make(k, &made); });
  EXPECT_EQ(cache.size(), 3u) << "bounded however many problems come";
}

TEST(PlanCache, AFailedMakeKeepsNothingAndAHeldPlanOutlivesItsEviction) {
  PlanCache<std::string, Plan> cache(1);
  EXPECT_THROW(cache.get("bad", []() -> std::shared_ptr<Plan> { throw std::runtime_error("x"); }),
               std::runtime_error);
  EXPECT_EQ(cache.size(), 0u);
  int made = 0;
  const std::shared_ptr<Plan> held = cache.get("a", [&] { return make(7, &made); });
  cache.get("b", [&] { return make(8, &made); });  // evicts "a"
  EXPECT_EQ(held->key, 7) << "the caller's plan is still whole";
  EXPECT_EQ(held.use_count(), 1);
  // use() runs on the cached plan under the lock, each time it is asked for.
  cache.get(
      "b", [&] { return make(9, &made); }, [](Plan& p) { ++p.uses; });
  EXPECT_EQ(cache
                .get(
                    "b", [&] { return make(9, &made); }, [](Plan& p) { ++p.uses; })
                ->uses,
            2);
  EXPECT_EQ(made, 2);
}

}  // namespace
}  // namespace tg::kernels
