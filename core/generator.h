// Generator: the (seed, offset) state that random ops draw from (Note [random streams]
// in kernels/philox.h). Each op reserves one offset, so a sequence of ops is
// reproducible from the seed alone. The draws depend only on (seed, offset), not on the
// device: a CPU and a CUDA generator in the same state give the same bits.
#pragma once

#include <cstdint>
#include <mutex>

#include "../foundation/config.h"

TG_API_BEGIN

namespace tg {

// The (seed, offset) pair one random op draws with. While a CudaGraph captures, `offset`
// is relative to a base the graph writes into device memory before each replay, and
// offset_base points there (Note [random numbers in CUDA graphs], core/cuda_graph.h).
struct RandomState {
  uint64_t seed;
  uint64_t offset;
  const uint64_t* offset_base = nullptr;  // device memory, or null: `offset` is absolute
};

class Generator {
 public:
  static constexpr uint64_t kDefaultSeed = 0x7a6d67726164ull;  // "tamegrad"-ish, fixed

  explicit Generator(uint64_t seed = kDefaultSeed) : seed_(seed) {}

  // Sets the seed and restarts the stream (offset 0).
  void manual_seed(uint64_t seed);
  uint64_t seed() const;
  uint64_t offset() const;
  // Restores a saved state (checkpoints use seed() and offset()).
  void set_state(uint64_t seed, uint64_t offset);
  // Reserves `count` offsets for one op: returns the seed and the first of them.
  RandomState reserve(uint64_t count = 1);

 private:
  mutable std::mutex mutex_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

}  // namespace tg

TG_API_END
