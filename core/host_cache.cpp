// The cache of large host blocks (host_cache.h).
#include "host_cache.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <utility>

namespace tg {

namespace {

// Note [host block cache]
// glibc gives blocks above its mmap threshold back to the kernel on free (and trims the top
// of its heap), so a training step that frees its activations and asks for the same sizes
// again the next step gets fresh pages every time, and the kernel zeroes each of them on its
// first touch: clear_page_erms was 14% of the CNN's CPU step (perf record of
// bench_train_step --only cnn_step, commit 0c1e92a). Kept here instead, a block is reused
// with its pages still mapped.
// Measured against the alternatives (bench/NOTES.md): glibc's thresholds raised by hand
// (MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_) gain as much but change the whole process's
// allocator and stop at 32 MiB; jemalloc was slower than glibc (its decay returns the pages
// too), mimalloc as fast as this, as a process-wide replacement.
// Rules: a request takes the smallest held block of its alignment that is at least as large
// and at most half as large again (kMaxSlack): training repeats its shapes, so most requests
// find their own size and waste nothing, while an epoch's last, smaller batch (112 of 128
// images on 6,000; 96 on 60,000) reuses the full batches' blocks instead of faulting ~40 MB of
// fresh pages in the CNN (`mnist_train --model cnn --limit 6000`, 2 threads: that last step
// 42-43 -> 26-32 ms, as long as the steps before it; it had faulted ~10,000 pages). A block is
// not split, so a lent block wastes at most a third of itself. The held bytes never pass the
// limit, the oldest held blocks going back first; a request the system refuses empties the
// cache and is tried once more. From 64 KiB: glibc's heap serves smaller blocks without faults, but
// trims what lies above it, and the MLP's 128 KiB activations (batch 128 x 256 floats) then
// faulted ~100 pages a step (getrusage) until the floor went from 256 to 64 KiB; the epoch
// 0.98-1.03 -> 0.92-0.98 s.
constexpr size_t kMinBytes = size_t(64) << 10;
// A request of `bytes` may take a held block of up to bytes + bytes / kMaxSlack.
constexpr size_t kMaxSlack = 2;

#if defined(__SANITIZE_ADDRESS__)
#define TG_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TG_UNDER_ASAN 1
#endif
#endif

size_t default_limit() {
#if defined(TG_UNDER_ASAN)
  return 0;  // a reused block would hide a use after free from AddressSanitizer
#else
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const size_t physical = pages > 0 && page > 0 ? size_t(pages) * size_t(page) : 0;
  const size_t one_gib = size_t(1) << 30;
  return physical == 0 ? one_gib : std::min(one_gib, physical / 8);
#endif
}

struct Key {
  size_t bytes;
  size_t alignment;
  bool operator<(const Key& o) const {
    return bytes != o.bytes ? bytes < o.bytes : alignment < o.alignment;
  }
};

struct Held {
  void* block;
  uint64_t age;  // when it was given back: the smallest goes first
};

class Cache {
 public:
  void* take(size_t bytes, size_t alignment, size_t* block_bytes) {
    *block_bytes = bytes;
    if (bytes >= kMinBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      const size_t largest = bytes + bytes / kMaxSlack;
      for (auto it = held_.lower_bound(Key{bytes, 0});
           it != held_.end() && it->first.bytes <= largest; ++it) {
        if (it->first.alignment != alignment) continue;
        void* block = it->second.block;
        *block_bytes = it->first.bytes;
        cached_bytes_ -= it->first.bytes;
        held_.erase(it);
        ++hits_;
        return block;
      }
      ++misses_;
    }
    void* block = std::aligned_alloc(alignment, bytes);
    if (block == nullptr && cached_bytes() > 0) {
      empty();
      block = std::aligned_alloc(alignment, bytes);
    }
    return block;
  }

  void give(void* block, size_t bytes, size_t alignment) {
    if (bytes >= kMinBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (bytes <= limit_) {
        while (cached_bytes_ + bytes > limit_) drop_oldest();
        held_.emplace(Key{bytes, alignment}, Held{block, next_age_++});
        cached_bytes_ += bytes;
        return;
      }
    }
    std::free(block);
  }

  void set_limit(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = bytes;
    while (cached_bytes_ > limit_) drop_oldest();
  }

  void empty() {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!held_.empty()) drop_oldest();
  }

  size_t cached_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

  HostCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    HostCacheStats s;
    s.cached_bytes = cached_bytes_;
    s.cached_blocks = static_cast<int64_t>(held_.size());
    s.limit_bytes = limit_;
    s.hits = hits_;
    s.misses = misses_;
    return s;
  }

 private:
  // Under the lock. A linear scan: the cache holds tens of blocks, not thousands.
  void drop_oldest() {
    auto oldest = held_.begin();
    for (auto it = held_.begin(); it != held_.end(); ++it) {
      if (it->second.age < oldest->second.age) oldest = it;
    }
    std::free(oldest->second.block);
    cached_bytes_ -= oldest->first.bytes;
    held_.erase(oldest);
  }

  std::mutex mutex_;
  std::multimap<Key, Held> held_;
  size_t cached_bytes_ = 0;
  size_t limit_ = default_limit();
  uint64_t next_age_ = 0;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

// Never destroyed: storages freed by other static destructors still give their blocks back.
Cache& cache() {
  static Cache* instance = new Cache();
  return *instance;
}

}  // namespace

void set_host_cache_limit(size_t bytes) { cache().set_limit(bytes); }
HostCacheStats host_cache_stats() { return cache().stats(); }
void empty_host_cache() { cache().empty(); }

namespace host_cache {
void* take(size_t bytes, size_t alignment, size_t* block_bytes) {
  return cache().take(bytes, alignment, block_bytes);
}
void give(void* block, size_t block_bytes, size_t alignment) {
  cache().give(block, block_bytes, alignment);
}
}  // namespace host_cache

}  // namespace tg
