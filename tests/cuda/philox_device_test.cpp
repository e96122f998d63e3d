// Philox4x32-10 on the GPU: the Random123 known-answer vectors, and agreement with the
// host on many counters.
#include <gtest/gtest.h>

#include "../../foundation/config.h"
#include "../support/parity.h"
#if TG_WITH_CUDA
#include "philox_device.h"
#endif

namespace tg {
namespace {

TEST(PhiloxCuda, KnownAnswerVectorsOnDevice) {
  TG_REQUIRE_CUDA();
#if TG_WITH_CUDA
  const std::vector<testing::PhiloxCase> cases = {
      {{{0, 0, 0, 0}}, 0, 0},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0}};
  const uint32_t expected[3][4] = {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                                   {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                                   {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}};
  const auto out = testing::philox_on_device(cases);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(out[i].v[j], expected[i][j]) << "vector " << i << " word " << j;
  }
#endif
}

TEST(PhiloxCuda, DeviceMatchesHostOnManyCounters) {
  TG_REQUIRE_CUDA();
#if TG_WITH_CUDA
  std::vector<testing::PhiloxCase> cases;
  for (uint32_t i = 0; i < 5000; ++i) {
    cases.push_back({{{i * 2654435761u, i, ~i, i << 7}}, i ^ 0xdeadbeefu, i * 40503u});
  }
  const auto out = testing::philox_on_device(cases);
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto host = kernels::philox4x32_10(cases[i].counter, cases[i].key0, cases[i].key1);
    for (int j = 0; j < 4; ++j) ASSERT_EQ(out[i].v[j], host.v[j]) << "case " << i;
  }
#endif
}

}  // namespace
}  // namespace tg
