// bfloat16 and float16 as 16-bit patterns, to and from float: the conversions of the half
// dtypes (foundation/dtype.h, Note [half dtypes]). Shared by the CPU and CUDA kernels
// (TG_HOST_DEVICE), so both devices convert to the same bits.
//
// Note [half conversions]
// To float, both are exact (every bfloat16 and float16 value is a float): bfloat16 is the
// top half of a float (a NaN's bits as they are, as everyone does); float16 widens its
// exponent (subnormals normalised), and a NaN keeps its sign and payload with the quiet bit
// set (F16C's rule, IEEE's for a signalling NaN).
// From float, both round to nearest, ties to even (IEEE 754's default, what x86's F16C
// instruction, CUDA's __float2half_rn and PyTorch's float16 give):
//   bfloat16  keeps the top 16 bits, adding half a unit of the 17th bit minus one unless the
//             kept part is odd (so a tie goes to the even neighbour); the carry may reach the
//             exponent, and the largest finite values round to infinity as IEEE says.
//   float16   below 2^-14 the result is a subnormal (a multiple of 2^-24) or zero; from
//             65520 up (the tie between 65504, the largest float16, and 2^16) infinity.
// A NaN stays a NaN, never rounds to infinity: its sign and the payload's top bits are
// kept and the quiet bit is set (what F16C does for float16; PyTorch's bfloat16 returns
// the canonical 0x7FC0 instead, the one difference from it: only a NaN's bits differ).
// Tests: tests/unit/half_test.cpp (every float16 and bfloat16 value to float, exhaustively
// against F16C and an arithmetic reference; from float, every rounding case).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../foundation/dtype.h"
#include "host_device.h"

namespace tg::kernels {

// One type's bits as another of the same size (memcpy: defined behaviour, a register move
// on both devices).
template <typename To, typename From>
TG_HOST_DEVICE To bit_cast(const From& from) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast: the sizes differ");
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}
TG_HOST_DEVICE uint32_t float_bits(float f) { return bit_cast<uint32_t>(f); }
TG_HOST_DEVICE float float_from_bits(uint32_t u) { return bit_cast<float>(u); }

TG_HOST_DEVICE float bfloat16_to_float(uint16_t b) {
  return float_from_bits(static_cast<uint32_t>(b) << 16);
}

TG_HOST_DEVICE uint16_t float_to_bfloat16(float f) {
  const uint32_t x = float_bits(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x0040u);  // NaN
  const uint32_t round = 0x7FFFu + ((x >> 16) & 1u);  // half a unit, less one unless odd
  return static_cast<uint16_t>((x + round) >> 16);
}

TG_HOST_DEVICE float float16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0x1F) {  // infinity, or a NaN (quietened, as F16C does)
    return float_from_bits(sign | 0x7F800000u | (mantissa << 13) | (mantissa ? 0x400000u : 0u));
  }
  if (exponent != 0) return float_from_bits(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  if (mantissa == 0) return float_from_bits(sign);  // ±0
  // A subnormal, mantissa · 2^-24: shift its leading bit up to the implicit position.
  uint32_t biased = 113;  // 2^-14's biased float exponent, lowered once per shift
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --biased;
  }
  return float_from_bits(sign | (biased << 23) | ((mantissa & 0x3FFu) << 13));
}

TG_HOST_DEVICE uint16_t float_to_float16(float f) {
  const uint32_t x = float_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t a = x & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
  if (a >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520: infinity
  uint32_t kept, rest, half;
  if (a >= 0x38800000u) {  // a normal float16: drop 13 mantissa bits, rebias the exponent
    kept = (a >> 13) - (112u << 10);
    rest = a & 0x1FFFu;
    half = 0x1000u;
  } else {
    if (a <= 0x33000000u) return static_cast<uint16_t>(sign);  // <= 2^-25: zero (a tie: even)
    // A subnormal: the float's mantissa with its implicit bit, in units of 2^-24.
    const uint32_t shift = 126u - (a >> 23);  // 14 .. 24 for 2^-25 < |f| < 2^-14
    const uint32_t mantissa = (a & 0x7FFFFFu) | 0x800000u;
    kept = mantissa >> shift;
    rest = mantissa & ((1u << shift) - 1u);
    half = 1u << (shift - 1u);
  }
  if (rest > half || (rest == half && (kept & 1u))) ++kept;  // a carry may reach the exponent
  return static_cast<uint16_t>(sign | kept);
}

// The element types of the half dtypes, as floats and back.
template <typename T>
inline constexpr bool is_half_type_v = std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>;

TG_HOST_DEVICE float half_to_float(bfloat16 h) { return bfloat16_to_float(h.bits); }
TG_HOST_DEVICE float half_to_float(float16 h) { return float16_to_float(h.bits); }

template <typename Half>
TG_HOST_DEVICE Half half_from_float(float f) {
  static_assert(is_half_type_v<Half>, "half_from_float: bfloat16 or float16");
  if constexpr (std::is_same_v<Half, bfloat16>) {
    return bfloat16{float_to_bfloat16(f)};
  } else {
    return float16{float_to_float16(f)};
  }
}

}  // namespace tg::kernels
