// The CPU dropout launcher (Note [philox lanes] in kernels/cpu/dropout.cpp: the block loop
// compiled per x86-64 level, in tasks of 1024 blocks over the threads; float32 on AVX-512 by
// 64 blocks in registers, Note [philox in registers]) against the element rule of Note
// [random streams] applied one element at a time: the same bits for every element, on sizes
// around a block, a register group, a task and the threading threshold, float32 and float64,
// plain and after a ReLU (Note [relu + dropout]), on inputs with negatives, zeros of both
// signs, infinities and NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../../kernels/dropout.h"
#include "../../kernels/elementwise.h"
#include "../../kernels/philox.h"

namespace tg::kernels {
namespace {

template <typename T>
T input(int64_t i) {
  switch (i % 13) {
    case 3: return T(-0.0);
    case 5: return T(0);
    case 7: return -std::numeric_limits<T>::infinity();
    case 8: return std::numeric_limits<T>::infinity();
    case 11: return std::numeric_limits<T>::quiet_NaN();
    default: return (i % 2 ? T(-1) : T(1)) * (T(1) + T(i % 97) / T(8));
  }
}

template <typename T>
void check(int64_t n, double p, uint64_t seed, uint64_t offset, bool relu = false) {
  std::vector<T> in(static_cast<size_t>(n)), out(static_cast<size_t>(n), T(-1));
  for (int64_t i = 0; i < n; ++i) in[i] = input<T>(i);
  DropoutArgs a{};
  a.dtype = std::is_same_v<T, float> ? DType::Float32 : DType::Float64;
  a.n = n;
  a.in = in.data();
  a.out = out.data();
  a.seed = seed;
  a.offset = offset;
  a.threshold = dropout_threshold(p);
  a.scale = p < 1 ? 1 / (1 - p) : 0;
  a.relu = relu;
  cpu::dropout(a);
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t word = philox_block(seed, offset, uint64_t(i / 4)).v[i % 4];
    const T x = relu ? relu_element(in[i]) : in[i];
    const T want = dropout_element(word, x, a.threshold, static_cast<T>(a.scale));
    const bool same =
        std::isnan(want) ? std::isnan(out[i]) : std::memcmp(&out[i], &want, sizeof(T)) == 0;
    ASSERT_TRUE(same) << "n " << n << ", p " << p << ", relu " << relu << ", element " << i << ": "
                      << out[i] << " against " << want;
  }
}

TEST(DropoutLanes, EveryElementFollowsTheStreamRule) {
  const uint64_t seed = 0x9E3779B97F4A7C15ull;
  for (int64_t n :
       {0, 1, 3, 4, 5, 17, 255, 256, 257, 4095, 4096, 4097, 16383, 16384 + 3, 65536, 100003}) {
    for (double p : {0.0, 0.2, 0.5, 0.9, 1.0}) {
      for (bool relu : {false, true}) {
        check<float>(n, p, seed, uint64_t(n) * 7, relu);
        check<double>(n, p, seed + 1, uint64_t(n) * 7 + 1, relu);
      }
    }
  }
  check<float>(1 << 20, 0.3, 42, uint64_t(1) << 33);  // an offset past 32 bits
}

}  // namespace
}  // namespace tg::kernels
