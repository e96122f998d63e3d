// CPU launcher of dropout (kernels/dropout.h): one Philox block (4 elements) per
// iteration; whole blocks in a threaded, vectorisable loop (lanes are blocks), then the tail.
// Float32 on AVX-512 CPUs: 64 blocks at a time in registers (Note [philox in registers]).
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "../dropout.h"
#include "../elementwise.h"
#include "isa_clones.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TG_DROPOUT_AVX512 1
#endif

namespace tg::kernels::cpu {

namespace {

// Blocks [first, last) of the mask applied: lanes are blocks, four elements each.
template <typename T>
inline __attribute__((always_inline)) void dropout_blocks(const DropoutArgs& a, int64_t first,
                                                          int64_t last) {
  const T* __restrict__ in = static_cast<const T*>(a.in);
  T* __restrict__ out = static_cast<T*>(a.out);
  const T scale = static_cast<T>(a.scale);
  const uint64_t seed = a.seed, offset = a.offset;
  const uint32_t threshold = a.threshold;
  if (a.relu) {
#pragma omp simd
    for (int64_t b = first; b < last; ++b) {
      const Philox4x32 r = philox_block(seed, offset, static_cast<uint64_t>(b));
      for (int j = 0; j < 4; ++j) {
        const T x = in[4 * b + j];
        out[4 * b + j] = dropout_element(r.v[j], relu_element(x), threshold, scale);
      }
    }
    return;
  }
#pragma omp simd
  for (int64_t b = first; b < last; ++b) {
    const Philox4x32 r = philox_block(seed, offset, static_cast<uint64_t>(b));
    for (int j = 0; j < 4; ++j)
      out[4 * b + j] = dropout_element(r.v[j], in[4 * b + j], threshold, scale);
  }
}

// The backward of relu + dropout over elements [first, last) (Note [relu + dropout]).
template <typename T>
inline __attribute__((always_inline)) void gated_range(const DropoutArgs& a, int64_t first,
                                                       int64_t last) {
  const T* __restrict__ in = static_cast<const T*>(a.in);
  const T* __restrict__ gate = static_cast<const T*>(a.gate);
  T* __restrict__ out = static_cast<T*>(a.out);
  const T scale = static_cast<T>(a.scale);
#pragma omp simd
  for (int64_t i = first; i < last; ++i) {
    const T g = in[i] * scale;  // made either way: a select, not a branch
    out[i] = gate[i] > T(0) ? g : T(0);
  }
}

// Note [philox lanes]
// Philox's 32x32->64-bit products are two lanes per SSE2 instruction and eight per AVX-512
// one: the block loop compiled per x86-64 level (measured in bench/NOTES.md). Integer
// arithmetic: every level gives the same mask.
TG_ISA_CLONES void dropout_blocks_of(const DropoutArgs& a, int64_t first, int64_t last, float) {
  dropout_blocks<float>(a, first, last);
}
TG_ISA_CLONES void dropout_blocks_of(const DropoutArgs& a, int64_t first, int64_t last, double) {
  dropout_blocks<double>(a, first, last);
}
TG_ISA_CLONES void gated_range_of(const DropoutArgs& a, int64_t first, int64_t last, float) {
  gated_range<float>(a, first, last);
}
TG_ISA_CLONES void gated_range_of(const DropoutArgs& a, int64_t first, int64_t last, double) {
  gated_range<double>(a, first, last);
}

#ifdef TG_DROPOUT_AVX512

// GCC 12 warns inside its own AVX-512 headers (their _mm512_undefined_* operands): not ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Note [philox in registers]
// The compiler's vectorisation of the block loop above (Note [philox lanes]) spent ~1 ns an
// element on one Zen 4 core, mostly moving 64-bit products between lanes. Here 16 blocks sit
// in four registers, word j of block b + i in lane i of the j-th, and a round's two 32x32-bit
// products are made for the 16 lanes by two VPMULUDQs each (even lanes, then odd lanes moved
// down), their halves put back in place by a shuffle and a blend; the XORs with the key are
// one three-way logic op. Four such groups (64 blocks) go through the rounds together, their
// chains independent. The keep test gives four 16-bit masks (word j of every block); PDEP
// spreads them to one bit per element (element 4i + j is block i's word j), and each 16
// elements are stored by one masked multiply. Measured (throwaway /tmp/tb/drop.cpp on this
// launcher, 65,536 elements after a ReLU): 65.2 -> 27.5 us on one core, 34.9 -> 14.7 on two
// (bench/NOTES.md, fourteenth session). Integer arithmetic throughout, the float ops those of
// relu_element and dropout_element (one compare, one multiply), so the bits are the scalar
// loop's (tests/unit/dropout_lanes_test.cpp compares every element).
#define TG_AVX512 __attribute__((target("avx512f,bmi2")))
#define TG_AVX512_INLINE __attribute__((target("avx512f,bmi2"), always_inline)) inline

constexpr int kGroups = 4;  // groups of 16 blocks in flight
constexpr int64_t kLaneBlocks = 16 * kGroups;

bool philox_lanes_available() {
  static const bool has = cpu_has_avx512f() && __builtin_cpu_supports("bmi2");
  return has;
}

// lo and hi words of x·m in every 32-bit lane.
TG_AVX512_INLINE __m512i mulhilo16(__m512i x, __m512i m, __m512i* hi) {
  const __m512i even = _mm512_mul_epu32(x, m);
  const __m512i odd = _mm512_mul_epu32(_mm512_shuffle_epi32(x, _MM_PERM_DDBB), m);
  *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_shuffle_epi32(even, _MM_PERM_DDBB), odd);
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_shuffle_epi32(odd, _MM_PERM_CCAA));
}

// philox_block for blocks b .. b + kLaneBlocks - 1, whose low counter words do not wrap:
// words[g][j] holds word j of blocks b + 16g + (0..15).
TG_AVX512_INLINE void philox_groups(uint64_t seed, uint64_t offset, uint64_t b,
                                    __m512i words[kGroups][4]) {
  using namespace philox_detail;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i c0[kGroups], c1[kGroups], c2[kGroups], c3[kGroups];
  for (int g = 0; g < kGroups; ++g) {
    c0[g] = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(b + 16 * g))),
                             lane);
    c1[g] = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(b >> 32)));
    c2[g] = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(offset)));
    c3[g] = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(offset >> 32)));
  }
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kMul0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(kMul1));
  uint32_t key0 = static_cast<uint32_t>(seed), key1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key0 += kWeyl0;
      key1 += kWeyl1;
    }
    const __m512i k0 = _mm512_set1_epi32(static_cast<int>(key0));
    const __m512i k1 = _mm512_set1_epi32(static_cast<int>(key1));
    for (int g = 0; g < kGroups; ++g) {
      __m512i hi0, hi1;
      const __m512i lo0 = mulhilo16(c0[g], m0, &hi0);
      const __m512i lo1 = mulhilo16(c2[g], m1, &hi1);
      c0[g] = _mm512_ternarylogic_epi32(hi1, c1[g], k0, 0x96);  // three-way XOR
      c1[g] = lo1;
      c2[g] = _mm512_ternarylogic_epi32(hi0, c3[g], k1, 0x96);
      c3[g] = lo0;
    }
  }
  for (int g = 0; g < kGroups; ++g) {
    words[g][0] = c0[g];
    words[g][1] = c1[g];
    words[g][2] = c2[g];
    words[g][3] = c3[g];
  }
}

// dropout_blocks<float> over blocks [first, last): kLaneBlocks at a time in registers, the
// rest (and any run whose low counter word would wrap) by the block loop. relu_element(x) is
// x <= 0 ? 0 : x (NaN kept, -0 made +0): the lanes keep x where it is not <= 0, unordered
// included.
TG_AVX512 void dropout_float_lanes(const DropoutArgs& a, int64_t first, int64_t last) {
  const float* in = static_cast<const float*>(a.in);
  float* out = static_cast<float*>(a.out);
  const __m512 scale = _mm512_set1_ps(static_cast<float>(a.scale));
  const __m512i threshold = _mm512_set1_epi32(static_cast<int>(a.threshold));
  int64_t b = first;
  for (; b + kLaneBlocks <= last; b += kLaneBlocks) {
    if (static_cast<uint32_t>(b) > UINT32_MAX - (kLaneBlocks - 1)) break;
    __m512i words[kGroups][4];
    philox_groups(a.seed, a.offset, static_cast<uint64_t>(b), words);
    for (int g = 0; g < kGroups; ++g) {
      uint64_t keep = 0;  // bit 4i + j: element 4i + j of the group kept
      for (int j = 0; j < 4; ++j) {
        const __mmask16 k = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(words[g][j], 8), threshold);
        keep |= _pdep_u64(k, 0x1111111111111111ull << j);
      }
      const int64_t e0 = 4 * (b + 16 * g);
      for (int e = 0; e < 4; ++e) {
        __m512 x = _mm512_loadu_ps(in + e0 + 16 * e);
        if (a.relu)
          x = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NLE_UQ), x);
        const auto kept = static_cast<__mmask16>(keep >> (16 * e));
        _mm512_storeu_ps(out + e0 + 16 * e, _mm512_maskz_mul_ps(kept, x, scale));
      }
    }
  }
  if (b < last) dropout_blocks<float>(a, b, last);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // TG_DROPOUT_AVX512

constexpr int64_t kBlocksPerTask = 1 << 10;

// Blocks [first, last) of T: the register path for float32 where the CPU has it.
template <typename T>
void dropout_task(const DropoutArgs& a, int64_t first, int64_t last) {
#ifdef TG_DROPOUT_AVX512
  if constexpr (std::is_same_v<T, float>) {
    if (philox_lanes_available()) return dropout_float_lanes(a, first, last);
  }
#endif
  dropout_blocks_of(a, first, last, T());
}

template <typename T>
void dropout_typed(const DropoutArgs& a) {
  if (a.gate != nullptr) {
#pragma omp parallel for schedule(static) if (a.n > (1 << 14))
    for (int64_t t = 0; t < (a.n + 4 * kBlocksPerTask - 1) / (4 * kBlocksPerTask); ++t)
      gated_range_of(a, t * 4 * kBlocksPerTask, std::min(a.n, (t + 1) * 4 * kBlocksPerTask), T());
    return;
  }
  const int64_t whole = a.n / 4, tasks = (whole + kBlocksPerTask - 1) / kBlocksPerTask;
#pragma omp parallel for schedule(static) if (whole > (1 << 12))
  for (int64_t t = 0; t < tasks; ++t) {
    dropout_task<T>(a, t * kBlocksPerTask, std::min(whole, (t + 1) * kBlocksPerTask));
  }
  if (whole * 4 < a.n) {
    const Philox4x32 r = philox_block(a.seed, a.offset, static_cast<uint64_t>(whole));
    const T* in = static_cast<const T*>(a.in);
    T* out = static_cast<T*>(a.out);
    for (int64_t i = whole * 4; i < a.n; ++i) {
      const T x = a.relu ? relu_element(in[i]) : in[i];
      out[i] = dropout_element(r.v[i % 4], x, a.threshold, static_cast<T>(a.scale));
    }
  }
}
}  // namespace

void dropout(const DropoutArgs& a) {
  TG_ASSERT(a.offset_base == nullptr, "dropout: a device-side offset base on the CPU");
  visit_float_dtype(a.dtype, [&](auto tag) { dropout_typed<decltype(tag)>(a); });
}

}  // namespace tg::kernels::cpu
