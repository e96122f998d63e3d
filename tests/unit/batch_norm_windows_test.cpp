// The blocked batch norm's transpositions (kernels/cpu/batch_norm_windows.h; Note [windows by
// transposes]): to_windows and to_planes against their portable loops, bit for bit, on
// out_plane 0, 1, 15, 16, 17 (a last part of one window), 31-33, 49 and 196 (the CNN's planes)
// and 1000, with values whose bits show a wrong move: NaNs with payloads of either sign, ±inf,
// ±0 (to_windows writes 0 + v: -0 becomes +0) and subnormals; nothing written outside the
// output (guards of NaN around it), the input untouched; and the loops against the rule
// itself. On a CPU without AVX-512F both sides are the loops, and only the rule is checked.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../../kernels/cpu/batch_norm_windows.h"

namespace tg::kernels::cpu::batch_norm_windows {
namespace {

constexpr int64_t kGuard = 37;  // floats before and after each output

float from_bits(uint32_t bits) {
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
uint32_t bits_of(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

// 16 planes' worth of values, every eighth one special.
std::vector<float> values(int64_t out_plane, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(0, 63);
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<size_t>(kGroup * out_plane));
  const float specials[] = {from_bits(0x7fc00123u),  // NaN with a payload
                            from_bits(0xffc00456u),  // negative NaN, another payload
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            0.0f,
                            -0.0f,
                            std::numeric_limits<float>::denorm_min(),
                            -3 * std::numeric_limits<float>::denorm_min()};
  for (float& x : v) {
    const int k = pick(rng);
    x = k < 8 ? specials[k] : normal(rng);
  }
  return v;
}

// A buffer of n floats between guards of a NaN no result has.
struct Guarded {
  explicit Guarded(int64_t n) : data(static_cast<size_t>(n + 2 * kGuard), from_bits(0x7fbadbadu)) {}
  float* out() { return data.data() + kGuard; }
  std::vector<float> data;
};

const int64_t kOutPlanes[] = {0, 1, 15, 16, 17, 31, 32, 33, 49, 196, 1000};

using Move = void (*)(const float* in, int64_t out_plane, float* out);

// `fast` and `loop` on the same input of out_plane · 16 values: the same bits everywhere in
// their guarded outputs, the input untouched; `check(in, out)` then checks the loop's output
// against the rule.
template <typename Check>
void expect_as_loop(Move fast, Move loop, uint32_t seed, Check&& check) {
  for (int64_t out_plane : kOutPlanes) {
    SCOPED_TRACE("out_plane " + std::to_string(out_plane));
    const std::vector<float> in = values(out_plane, seed + static_cast<uint32_t>(out_plane));
    const std::vector<float> before = in;
    Guarded got(kGroup * out_plane), want(kGroup * out_plane);
    fast(in.data(), out_plane, got.out());
    loop(in.data(), out_plane, want.out());
    for (size_t i = 0; i < got.data.size(); ++i) {
      ASSERT_EQ(bits_of(got.data[i]), bits_of(want.data[i]))
          << "element " << static_cast<int64_t>(i) - kGuard;
    }
    EXPECT_TRUE(in.empty() || std::memcmp(in.data(), before.data(), in.size() * sizeof(float)) == 0)
        << "input";
    for (int64_t o = 0; o < out_plane; ++o) {
      for (int64_t c = 0; c < kGroup; ++c) check(in.data(), want.out(), out_plane, o, c);
    }
  }
}

TEST(BatchNormWindows, ToWindowsMatchesTheLoopBitForBit) {
  // Window o's channel c is 0 + plane c's value o (a -0 turned +0).
  expect_as_loop(
      to_windows, to_windows_portable, 1,
      [](const float* planes, const float* windows, int64_t out_plane, int64_t o, int64_t c) {
        ASSERT_EQ(bits_of(windows[o * kGroup + c]), bits_of(0.0f + planes[c * out_plane + o]));
      });
}

TEST(BatchNormWindows, ToPlanesMatchesTheLoopBitForBit) {
  // Plane c's value o is window o's channel c, as it is.
  expect_as_loop(
      to_planes, to_planes_portable, 101,
      [](const float* windows, const float* planes, int64_t out_plane, int64_t o, int64_t c) {
        ASSERT_EQ(bits_of(planes[c * out_plane + o]), bits_of(windows[o * kGroup + c]));
      });
}

}  // namespace
}  // namespace tg::kernels::cpu::batch_norm_windows
