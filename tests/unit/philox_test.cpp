// Philox4x32-10 against the known-answer vectors published with Random123
// (kat_vectors, "philox4x32 10"), and the counter layout of Note [random streams].
#include <gtest/gtest.h>

#include "../../kernels/philox.h"

namespace tg::kernels {
namespace {

struct KnownAnswer {
  Philox4x32 counter;
  uint32_t key0, key1;
  Philox4x32 expected;
};

const KnownAnswer kVectors[] = {
    {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
    {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
     0xffffffff,
     0xffffffff,
     {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
    {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
     0xa4093822,
     0x299f31d0,
     {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
};

TEST(Philox, KnownAnswerVectorsOnCpu) {
  for (const KnownAnswer& k : kVectors) {
    const Philox4x32 out = philox4x32_10(k.counter, k.key0, k.key1);
    for (int j = 0; j < 4; ++j) {
      EXPECT_EQ(out.v[j], k.expected.v[j])
          << "word " << j << " of counter " << std::hex << k.counter.v[0];
    }
  }
}

TEST(Philox, BlockCounterIsBlockThenOffsetAndKeyIsSeed) {
  const uint64_t seed = 0x299f31d0a4093822ull;
  const uint64_t block = 0x85a308d3243f6a88ull;
  const uint64_t offset = 0x0370734413198a2eull;
  const Philox4x32 out = philox_block(seed, offset, block);
  EXPECT_EQ(out.v[0], 0xd16cfe09u);
  EXPECT_EQ(out.v[3], 0x24126ea1u);
}

}  // namespace
}  // namespace tg::kernels
