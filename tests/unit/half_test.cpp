// bfloat16 and float16 conversions (kernels/half.h, Note [half conversions]) against
// references that share no code with them: x86's F16C instructions where the CPU has them
// (the IEEE conversion in hardware), and arithmetic in double (ldexp; the nearest of the
// two neighbours, ties to even). Every one of the 65,536 values of each type to float;
// from float, every tie between neighbours and the floats either side of it, and a sample
// of 16.7 million floats spread over every exponent, sign and NaN.
#include "../../kernels/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define TG_HAVE_F16C_REFERENCE 1
#endif

namespace tg::kernels {
namespace {

#if TG_HAVE_F16C_REFERENCE
__attribute__((target("f16c"))) uint16_t f16c_from_float(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float f16c_to_float(uint16_t h) { return _cvtsh_ss(h); }
// CPUID leaf 1, ECX bit 29 (F16C), with AVX usable (its VEX encoding needs the OS's
// support, which __builtin_cpu_supports("avx") checks).
bool have_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __builtin_cpu_supports("avx") && __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}
#else
uint16_t f16c_from_float(float) { return 0; }
float f16c_to_float(uint16_t) { return 0; }
bool have_f16c() { return false; }
#endif

bool is_nan16(uint16_t h, int exponent_bits) {
  const int mantissa_bits = 15 - exponent_bits;
  const uint32_t exponent = (h >> mantissa_bits) & ((1u << exponent_bits) - 1u);
  return exponent == (1u << exponent_bits) - 1u && (h & ((1u << mantissa_bits) - 1u)) != 0;
}

// A finite or infinite 16-bit value by arithmetic: sign, exponent and mantissa fields.
double value16(uint16_t h, int exponent_bits) {
  const int mantissa_bits = 15 - exponent_bits;
  const int bias = (1 << (exponent_bits - 1)) - 1;
  const double sign = (h & 0x8000u) ? -1.0 : 1.0;
  const int exponent = (h >> mantissa_bits) & ((1 << exponent_bits) - 1);
  const int mantissa = h & ((1 << mantissa_bits) - 1);
  if (exponent == (1 << exponent_bits) - 1) return sign * std::numeric_limits<double>::infinity();
  if (exponent == 0) return sign * std::ldexp(mantissa, 1 - bias - mantissa_bits);
  return sign * std::ldexp(mantissa + (1 << mantissa_bits), exponent - bias - mantissa_bits);
}

struct Format {
  const char* name;
  int exponent_bits;
  float (*to_float)(uint16_t);
  uint16_t (*from_float)(float);
};
const Format kFloat16{"float16", 5, float16_to_float, float_to_float16};
const Format kBfloat16{"bfloat16", 8, bfloat16_to_float, float_to_bfloat16};

// Round to nearest, ties to even, by arithmetic: the neighbours of |f| among the positive
// 16-bit values (their doubles, ascending), the nearer one, the even one on a tie; past the
// largest finite value the rounding goes on as if the exponent were unbounded (IEEE 754),
// so from halfway to the next power of two up it is infinity.
uint16_t nearest_by_arithmetic(float f, const Format& fmt, const std::vector<double>& positive) {
  const double a = std::fabs(static_cast<double>(f));
  const uint16_t sign = std::signbit(f) ? 0x8000u : 0u;
  const uint16_t inf =
      static_cast<uint16_t>(((1u << fmt.exponent_bits) - 1u) << (15 - fmt.exponent_bits));
  const double largest = positive[inf - 1];
  const double beyond = 2 * largest - positive[inf - 2];  // the next value, were there one
  if (a >= (largest + beyond) / 2) return static_cast<uint16_t>(sign | inf);
  if (a >= largest) return static_cast<uint16_t>(sign | (inf - 1));
  size_t lo = 0, hi = inf - 1;  // positive[lo] <= a < positive[hi]
  while (hi - lo > 1) {
    const size_t mid = (lo + hi) / 2;
    (positive[mid] <= a ? lo : hi) = mid;
  }
  const double below = a - positive[lo], above = positive[hi] - a;
  const size_t pick = below < above ? lo : above < below ? hi : (lo % 2 == 0 ? lo : hi);
  return static_cast<uint16_t>(sign | pick);
}

std::vector<double> positive_values(const Format& fmt) {
  std::vector<double> out;
  for (uint32_t h = 0; h < 0x8000u; ++h)
    out.push_back(value16(static_cast<uint16_t>(h), fmt.exponent_bits));
  return out;
}

TEST(HalfConversions, EveryValueWidensToFloatExactly) {
  const bool f16c = have_f16c();
  for (const Format& fmt : {kFloat16, kBfloat16}) {
    for (uint32_t i = 0; i < 0x10000u; ++i) {
      const uint16_t h = static_cast<uint16_t>(i);
      const float got = fmt.to_float(h);
      if (is_nan16(h, fmt.exponent_bits)) {
        ASSERT_TRUE(std::isnan(got)) << fmt.name << " " << std::hex << i;
        ASSERT_EQ(std::signbit(got), (h & 0x8000u) != 0) << fmt.name << " " << std::hex << i;
        // The payload moves up with the mantissa field; float16's NaNs come out quiet.
        const int shift = 23 - (15 - fmt.exponent_bits);
        const uint32_t quiet = fmt.exponent_bits == 5 ? 0x400000u : 0u;
        ASSERT_EQ(
            float_bits(got) & 0x7FFFFFu,
            (static_cast<uint32_t>(h & ((1u << (15 - fmt.exponent_bits)) - 1u)) << shift) | quiet)
            << fmt.name << " " << std::hex << i;
      } else {
        ASSERT_EQ(float_bits(got), float_bits(static_cast<float>(value16(h, fmt.exponent_bits))))
            << fmt.name << " " << std::hex << i;
      }
      if (f16c && fmt.exponent_bits == 5) {
        ASSERT_EQ(float_bits(got), float_bits(f16c_to_float(h))) << "F16C, " << std::hex << i;
      }
    }
  }
  if (!f16c) std::printf("half_test: no F16C on this CPU: float16 checked by arithmetic only\n");
}

TEST(HalfConversions, EveryValueSurvivesTheRoundTrip) {
  for (const Format& fmt : {kFloat16, kBfloat16}) {
    for (uint32_t i = 0; i < 0x10000u; ++i) {
      const uint16_t h = static_cast<uint16_t>(i);
      const uint16_t back = fmt.from_float(fmt.to_float(h));
      if (is_nan16(h, fmt.exponent_bits)) {
        // Quiet NaNs come back as they were; a signalling one comes back quietened.
        const uint16_t quiet = static_cast<uint16_t>(1u << (14 - fmt.exponent_bits));
        ASSERT_EQ(back, h | quiet) << fmt.name << " " << std::hex << i;
      } else {
        ASSERT_EQ(back, h) << fmt.name << " " << std::hex << i;
      }
    }
  }
}

// Between every two neighbouring values (positive and negative, subnormal, normal, the last
// finite one and the overflow threshold): the tie goes to the even one, a float either side
// of it to the nearer.
TEST(HalfConversions, TiesGoToEvenAndNeighboursToTheNearer) {
  for (const Format& fmt : {kFloat16, kBfloat16}) {
    const std::vector<double> positive = positive_values(fmt);
    const uint16_t inf =
        static_cast<uint16_t>(((1u << fmt.exponent_bits) - 1u) << (15 - fmt.exponent_bits));
    for (uint16_t lo = 0; lo < inf; ++lo) {
      const double next = lo + 1 < inf ? positive[lo + 1u] : 2 * positive[lo] - positive[lo - 1u];
      const float tie = static_cast<float>((positive[lo] + next) / 2);  // exact in float
      ASSERT_EQ(static_cast<double>(tie), (positive[lo] + next) / 2);
      const uint16_t even = lo % 2 == 0 ? lo : static_cast<uint16_t>(lo + 1);
      for (const float sign : {1.0f, -1.0f}) {
        const uint16_t s = sign < 0 ? 0x8000u : 0u;
        ASSERT_EQ(fmt.from_float(sign * tie), s | even) << fmt.name << " tie above " << lo;
        const float below = std::nextafter(sign * tie, 0.0f);
        const float above =
            std::nextafter(sign * tie, sign * std::numeric_limits<float>::infinity());
        ASSERT_EQ(fmt.from_float(below), s | lo) << fmt.name << " below the tie above " << lo;
        ASSERT_EQ(fmt.from_float(above), s | (lo + 1u))
            << fmt.name << " above the tie above " << lo;
      }
    }
  }
}

// 16.7 million floats (every 257th bit pattern: each exponent, sign, NaN payloads and the
// subnormals) against the arithmetic rule, and float16 against F16C as well.
TEST(HalfConversions, AFloatRoundsToTheNearestValueTiesToEven) {
  const bool f16c = have_f16c();
  for (const Format& fmt : {kFloat16, kBfloat16}) {
    const std::vector<double> positive = positive_values(fmt);
    int64_t checked = 0;
    for (uint64_t bits = 0; bits <= 0xFFFFFFFFu; bits += 257) {
      const float f = float_from_bits(static_cast<uint32_t>(bits));
      const uint16_t got = fmt.from_float(f);
      if (f16c && fmt.exponent_bits == 5) {
        ASSERT_EQ(got, f16c_from_float(f)) << "F16C, float bits " << std::hex << bits;
      }
      if (std::isnan(f)) {
        ASSERT_TRUE(is_nan16(got, fmt.exponent_bits)) << fmt.name << " " << std::hex << bits;
        ASSERT_EQ((got & 0x8000u) != 0, std::signbit(f)) << fmt.name << " " << std::hex << bits;
        continue;
      }
      // Every 64th: the binary search is the slow part.
      if (bits % (257 * 64) == 0 || std::isinf(f)) {
        ASSERT_EQ(got, nearest_by_arithmetic(f, fmt, positive))
            << fmt.name << " float bits " << std::hex << bits;
        ++checked;
      }
    }
    EXPECT_GT(checked, 250000) << fmt.name;
  }
}

TEST(HalfConversions, InfinitiesZerosAndTheEdgesOfEachRange) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(float_to_float16(inf), 0x7C00u);
  EXPECT_EQ(float_to_float16(-inf), 0xFC00u);
  EXPECT_EQ(float_to_float16(-0.0f), 0x8000u);
  EXPECT_EQ(float_to_float16(65504.0f), 0x7BFFu);
  EXPECT_EQ(float_to_float16(65519.996f), 0x7BFFu);
  EXPECT_EQ(float_to_float16(65520.0f), 0x7C00u);  // the tie past the largest goes up
  EXPECT_EQ(float_to_float16(std::ldexp(1.0f, -24)), 0x0001u);
  EXPECT_EQ(float_to_float16(std::ldexp(1.0f, -25)), 0x0000u);  // a tie: to zero (even)
  EXPECT_EQ(float_to_float16(std::ldexp(1.5f, -25)), 0x0001u);
  EXPECT_EQ(float_to_float16(std::ldexp(1.0f, -14)), 0x0400u);  // the smallest normal
  EXPECT_EQ(float_to_bfloat16(inf), 0x7F80u);
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::max()), 0x7F80u);  // rounds past
  EXPECT_EQ(float_to_bfloat16(-0.0f), 0x8000u);
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::denorm_min()), 0x0000u);
  EXPECT_EQ(float_to_bfloat16(1.0f), 0x3F80u);
  EXPECT_EQ(float_to_bfloat16(-std::nanf("")) & 0x8040u, 0x8040u);      // sign kept, quiet
  EXPECT_EQ(float_to_bfloat16(float_from_bits(0x7F800001u)), 0x7FC0u);  // a signalling NaN
  EXPECT_EQ(float_to_float16(float_from_bits(0x7F800001u)), 0x7E00u);   // is quietened
}

}  // namespace
}  // namespace tg::kernels
