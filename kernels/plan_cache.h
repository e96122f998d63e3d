// PlanCache: a bounded, least-recently-used map from a problem's key to its plan (host
// code, shared by the CUDA launchers that keep library state per problem: conv2d's cuDNN
// descriptors and algorithm choices, Note [algorithm cache] in kernels/cuda/conv2d.cu).
// Plans are handed out as shared pointers, so one evicted while a call still uses it lives
// until that call is done; a plan whose making throws is not kept. Thread-safe. Tested on
// the CPU: tests/unit/plan_cache_test.cpp.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace tg::kernels {

template <typename Key, typename Plan>
class PlanCache {
 public:
  explicit PlanCache(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

  // The plan of `key`, made by make() (returning a std::shared_ptr<Plan>) when the cache has
  // none; `use(plan)` runs under the cache's lock (to fill in a plan's lazy parts once).
  template <typename Make, typename Use>
  std::shared_ptr<Plan> get(const Key& key, Make make, Use use) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = index_.find(key);
    if (found != index_.end()) {
      order_.splice(order_.begin(), order_, found->second);  // now the most recent
    } else {
      std::shared_ptr<Plan> plan = make();  // a throw keeps nothing
      order_.emplace_front(key, std::move(plan));
      found = index_.emplace(key, order_.begin()).first;
      if (order_.size() > capacity_) {
        index_.erase(order_.back().first);
        order_.pop_back();
      }
    }
    std::shared_ptr<Plan> plan = found->second->second;
    use(*plan);
    return plan;
  }
  template <typename Make>
  std::shared_ptr<Plan> get(const Key& key, Make make) {
    return get(key, make, [](Plan&) {});
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return order_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  using Entry = std::pair<Key, std::shared_ptr<Plan>>;
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> order_;  // most recently used first
  std::map<Key, typename std::list<Entry>::iterator> index_;
};

}  // namespace tg::kernels
