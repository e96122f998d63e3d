// Generator state: a seed and the next free offset, guarded for use from many threads.
#include "generator.h"

#include "../foundation/error.h"

namespace tg {

void Generator::manual_seed(uint64_t seed) { set_state(seed, 0); }

uint64_t Generator::seed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return seed_;
}

uint64_t Generator::offset() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return offset_;
}

void Generator::set_state(uint64_t seed, uint64_t offset) {
  std::lock_guard<std::mutex> lock(mutex_);
  seed_ = seed;
  offset_ = offset;
}

RandomState Generator::reserve(uint64_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  TG_CHECK(offset_ + count >= offset_, "Generator: offset space exhausted (offset ", offset_, ")");
  const RandomState state{seed_, offset_};
  offset_ += count;
  return state;
}

}  // namespace tg
