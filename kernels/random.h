// Random tensors: uniform, normal and Bernoulli draws from Philox (kernels/philox.h).
//
// The per-element math lives here once and both launchers call it, so a CPU and a CUDA
// generator in the same (seed, offset) state produce the same bits; see
// Note [random streams] for how elements map to Philox blocks and Note [exact
// arithmetic] for why the normal's log and sine are written out below.
//
// Front-end: core/factory.cpp (rand, randn, bernoulli, uniform, normal). Tests:
//   tests/unit/random_test.cpp, tests/cuda/random_parity_test.cpp
#pragma once

#include <cmath>
#include <cstdint>

#include "common.h"
#include "philox.h"

namespace tg::kernels {

enum class Distribution : uint8_t {
  Uniform,    // [a, b)
  Normal,     // mean a, standard deviation b
  Bernoulli,  // 1 with probability a, else 0
};

struct RandomArgs {
  void* dst;  // (numel,) contiguous, of dtype
  DType dtype;
  int64_t numel;
  uint64_t seed;
  uint64_t offset;
  Distribution distribution;
  double a;
  double b;
  // CUDA only: device memory whose value is added to `offset` (Note [random numbers in
  // CUDA graphs], core/cuda_graph.h); null otherwise.
  const uint64_t* offset_base;
};

// How many elements one Philox block (four 32-bit words) yields: two per block for
// float64 uniforms and normals (53-bit draws take two words), four otherwise.
TG_HOST_DEVICE int values_per_block(Distribution distribution, DType dtype) {
  return (dtype == DType::Float64 && distribution != Distribution::Bernoulli) ? 2 : 4;
}

// Uniform draws built from the words' top bits, exact in binary floating point.
TG_HOST_DEVICE double uniform24(uint32_t word) {  // [0, 1), step 2^-24
  return static_cast<double>(word >> 8) * (1.0 / 16777216.0);
}
TG_HOST_DEVICE double uniform53(uint32_t hi, uint32_t lo) {  // [0, 1), step 2^-53
  const uint64_t bits = (static_cast<uint64_t>(hi >> 5) << 26) | (lo >> 6);
  return static_cast<double>(bits) * (1.0 / 9007199254740992.0);
}

// ln(u) for u > 0 (finite), from u = m·2^e with m in [sqrt(1/2), sqrt(2)) and
// ln(m) = 2·atanh(s), s = (m-1)/(m+1), |s| < 0.172: the series to s^25 is exact to
// double rounding. Only +, ×, ÷ (all correctly rounded), so CPU and GPU agree bit for bit.
TG_HOST_DEVICE double exact_log(double u) {
  int e = 0;
  double m = std::frexp(u, &e);  // u = m·2^e, m in [0.5, 1)
  if (m < 0.70710678118654752) {
    m = m * 2.0;
    e -= 1;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = mul_rn(s, s);
  double series = 1.0 / 25.0;
  for (int k = 11; k >= 0; --k) series = add_rn(1.0 / (2 * k + 1), mul_rn(series, s2));
  const double log_m = mul_rn(mul_rn(2.0, s), series);
  return add_rn(mul_rn(static_cast<double>(e), 0.69314718055994530942), log_m);
}

// sin and cos of 2π·t for t in [0, 1): the quarter turn is split off exactly, the rest
// (an angle below π/2) goes through Taylor series to degree 25/24.
TG_HOST_DEVICE void exact_sincos_turns(double t, double* sin_out, double* cos_out) {
  const double quarters = t * 4.0;  // exact
  const int quadrant = static_cast<int>(quarters);
  const double x = mul_rn(quarters - quadrant, 1.57079632679489661923);
  const double x2 = mul_rn(x, x);
  double sin_series = 1.0, cos_series = 1.0;
  for (int k = 12; k >= 1; --k) {
    // sin: 1 - x²/(2·3)(1 - x²/(4·5)(...)); cos: 1 - x²/(1·2)(1 - x²/(3·4)(...))
    sin_series = add_rn(1.0, -mul_rn(x2, sin_series) / ((2.0 * k) * (2.0 * k + 1)));
    cos_series = add_rn(1.0, -mul_rn(x2, cos_series) / ((2.0 * k - 1) * (2.0 * k)));
  }
  const double s = mul_rn(x, sin_series), c = cos_series;
  switch (quadrant) {
    case 0:
      *sin_out = s;
      *cos_out = c;
      break;
    case 1:
      *sin_out = c;
      *cos_out = -s;
      break;
    case 2:
      *sin_out = -s;
      *cos_out = -c;
      break;
    default:
      *sin_out = -c;
      *cos_out = s;
      break;
  }
}

// Box–Muller: two uniforms, u1 in (0, 1] and u2 in [0, 1), give two standard normals.
TG_HOST_DEVICE void box_muller(double u1, double u2, double* z0, double* z1) {
  const double radius = std::sqrt(-2.0 * exact_log(u1));
  double s, c;
  exact_sincos_turns(u2, &s, &c);
  *z0 = mul_rn(radius, c);
  *z1 = mul_rn(radius, s);
}

// The values of one Philox block: writes values_per_block(...) doubles to out.
TG_HOST_DEVICE void random_block_values(const RandomArgs& args, Philox4x32 r, double* out) {
  const bool wide = args.dtype == DType::Float64;
  switch (args.distribution) {
    case Distribution::Uniform: {
      const double span = add_rn(args.b, -args.a);
      if (wide) {
        out[0] = add_rn(args.a, mul_rn(uniform53(r.v[0], r.v[1]), span));
        out[1] = add_rn(args.a, mul_rn(uniform53(r.v[2], r.v[3]), span));
      } else {
        for (int j = 0; j < 4; ++j) out[j] = add_rn(args.a, mul_rn(uniform24(r.v[j]), span));
      }
      return;
    }
    case Distribution::Normal: {
      double z[4];
      if (wide) {
        box_muller(1.0 - uniform53(r.v[0], r.v[1]), uniform53(r.v[2], r.v[3]), &z[0], &z[1]);
      } else {
        box_muller(1.0 - uniform24(r.v[0]), uniform24(r.v[1]), &z[0], &z[1]);
        box_muller(1.0 - uniform24(r.v[2]), uniform24(r.v[3]), &z[2], &z[3]);
      }
      for (int j = 0; j < (wide ? 2 : 4); ++j) out[j] = add_rn(args.a, mul_rn(z[j], args.b));
      return;
    }
    case Distribution::Bernoulli:
      for (int j = 0; j < 4; ++j) out[j] = uniform24(r.v[j]) < args.a ? 1.0 : 0.0;
      return;
  }
}

namespace cpu {
void random(const RandomArgs& args);
}
namespace cuda {
void random(const RandomArgs& args, void* stream);
}

}  // namespace tg::kernels
