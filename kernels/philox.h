// Philox4x32-10, the counter-based generator of Salmon et al., "Parallel random numbers:
// as easy as 1, 2, 3" (SC'11). One call maps a 128-bit counter and a 64-bit key to 128
// random bits; the same inputs give the same bits on the CPU and the GPU.
// Checked against the Random123 known-answer vectors in tests/unit/philox_test.cpp.
//
// Used by: kernels/random.h, kernels/dropout.h. Tests: tests/unit/philox_test.cpp,
//   tests/cuda/philox_device_test.cpp (Random123 known answers)
#pragma once

#include <cstdint>

#include "common.h"

namespace tg::kernels {

struct Philox4x32 {
  uint32_t v[4];
};

namespace philox_detail {
constexpr uint32_t kMul0 = 0xD2511F53u;
constexpr uint32_t kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1

TG_HOST_DEVICE uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t product = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(product >> 32);
  return static_cast<uint32_t>(product);
}
}  // namespace philox_detail

// Ten rounds; the key is bumped by the Weyl constants between rounds.
TG_HOST_DEVICE Philox4x32 philox4x32_10(Philox4x32 counter, uint32_t key0, uint32_t key1) {
  using namespace philox_detail;
  uint32_t c0 = counter.v[0], c1 = counter.v[1], c2 = counter.v[2], c3 = counter.v[3];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key0 += kWeyl0;
      key1 += kWeyl1;
    }
    uint32_t hi0, hi1;
    const uint32_t lo0 = mulhilo(kMul0, c0, &hi0);
    const uint32_t lo1 = mulhilo(kMul1, c2, &hi1);
    c0 = hi1 ^ c1 ^ key0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ key1;
    c3 = lo0;
  }
  return Philox4x32{{c0, c1, c2, c3}};
}

// Note [random streams]
// Every random op draws from (seed, offset): the key is the 64-bit seed, the counter is
// (block index, offset) as four 32-bit words. A call uses one offset value, so calls
// never overlap, and element i of the call lives in block i / per_block, word
// i % per_block (per_block = 4 for 32-bit draws, 2 for 53-bit ones). Dropout's keep test
// follows the same rule, so a mask is a pure function of (seed, offset, i).
TG_HOST_DEVICE Philox4x32 philox_block(uint64_t seed, uint64_t offset, uint64_t block) {
  const Philox4x32 counter{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                            static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32)}};
  return philox4x32_10(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

}  // namespace tg::kernels
