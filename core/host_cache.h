// The cache of large host blocks behind CPU storages (Note [host block cache] in
// host_cache.cpp): a freed block of 64 KiB or more is kept for the next allocation of its
// size (or a little smaller) instead of going back to the kernel, up to a byte limit, oldest
// dropped first.
// What torch.cuda's caching allocator does for device memory, for the host: a training step
// frees and asks again for the same activation sizes every step.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../foundation/config.h"

TG_API_BEGIN

namespace tg {

struct HostCacheStats {
  size_t cached_bytes = 0;  // held now, free for reuse
  int64_t cached_blocks = 0;
  size_t limit_bytes = 0;  // the most it holds (0: caching off)
  int64_t hits = 0;        // allocations served from the cache
  int64_t misses = 0;      // allocations of a cacheable size that went to the system
};

// The byte limit; 0 turns caching off and returns every held block. The default is the
// smaller of 1 GiB and an eighth of the physical memory (0 in AddressSanitizer builds, so a
// use after free is still caught).
void set_host_cache_limit(size_t bytes);
HostCacheStats host_cache_stats();
// Returns every held block to the system (torch.cuda.empty_cache, for the host).
void empty_host_cache();

namespace host_cache {
// Storage's side: a block of at least `bytes` (a multiple of `alignment`) aligned to
// `alignment`: the smallest held one of that alignment and at most half as large again (Note
// [host block cache]) when there is one, else a fresh one of `bytes`; its size goes to
// *block_bytes. nullptr when the system has none even after every held block went back.
void* take(size_t bytes, size_t alignment, size_t* block_bytes);
// Hands a block from take() back with the size take() gave it: kept when it is large enough and
// fits the limit, else freed.
void give(void* block, size_t block_bytes, size_t alignment);
}  // namespace host_cache

}  // namespace tg

TG_API_END
