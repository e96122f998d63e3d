// CPU launcher of dropout (kernels/dropout.h): one Philox block (4 elements) per
// iteration; whole blocks in a threaded, vectorisable loop (lanes are blocks), then the tail.
#include <algorithm>

#include "../dropout.h"
#include "../elementwise.h"
#include "isa_clones.h"

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

constexpr int64_t kBlocksPerTask = 1 << 10;

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
    dropout_blocks_of(a, t * kBlocksPerTask, std::min(whole, (t + 1) * kBlocksPerTask), T());
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
