// The CPU's fast 2x2 max pooling paths (Note [pooling lanes] in kernels/cpu/pool.cpp: AVX-512
// where the CPU has it, the scalar window otherwise) against the general window
// (max_pool_element) on many plane shapes, short and long rows, odd widths (the last column
// unused), with ties, NaNs (one or several in a window: the first wins), infinities and signed
// zeros: the same value bits and the same recorded position for every output; and the
// backward of what they record against the scatter rule, bit for bit.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../../kernels/pool.h"

namespace tg::kernels {
namespace {

template <typename T>
std::vector<T> awkward_values(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(0, 19);
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) {
    const int k = pick(rng);
    if (k == 0) {
      x = std::numeric_limits<T>::quiet_NaN();
    } else if (k == 1) {
      x = -std::numeric_limits<T>::quiet_NaN();  // another NaN's bits: which one wins shows
    } else if (k == 2) {
      x = std::numeric_limits<T>::infinity();
    } else if (k == 3) {
      x = -std::numeric_limits<T>::infinity();
    } else if (k == 4) {
      x = T(-0.0);
    } else {
      x = T(k % 4);  // few levels: many ties, where the first position must win
    }
  }
  return v;
}

template <typename T>
void check_shape(int64_t planes, int64_t in_h, int64_t in_w, uint32_t seed) {
  Pool2dArgs a{};
  a.dtype = std::is_same_v<T, float> ? DType::Float32 : DType::Float64;
  a.planes = planes;
  a.in_h = in_h;
  a.in_w = in_w;
  a.out_h = in_h / 2;
  a.out_w = in_w / 2;
  a.kernel_h = a.kernel_w = a.stride_h = a.stride_w = 2;
  const std::vector<T> in = awkward_values<T>(planes * in_h * in_w, seed);
  const int64_t out_plane = a.out_h * a.out_w;
  std::vector<T> out(static_cast<size_t>(planes * out_plane));
  std::vector<int64_t> argmax(out.size(), -7);
  cpu::pool2d_forward(PoolForwardArgs{a, true, in.data(), out.data(), argmax.data()});
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t oh = 0; oh < a.out_h; ++oh) {
      for (int64_t ow = 0; ow < a.out_w; ++ow) {
        int64_t want_at = -1;
        const T want = max_pool_element(a, in.data() + p * in_h * in_w, oh, ow, &want_at);
        const int64_t o = p * out_plane + oh * a.out_w + ow;
        const std::string where = "planes " + std::to_string(planes) + ", " + std::to_string(in_h) +
                                  "x" + std::to_string(in_w) + ", plane " + std::to_string(p) +
                                  " output (" + std::to_string(oh) + ", " + std::to_string(ow) +
                                  ")";
        ASSERT_EQ(std::memcmp(&out[o], &want, sizeof(T)), 0) << where;
        ASSERT_EQ(argmax[o], want_at) << where;
      }
    }
  }
  // Backward: the scatter rule, 0 then += g at the argmax, bit for bit (-0 gradients give +0),
  // into a buffer of garbage: every element is written.
  const std::vector<T> grad = awkward_values<T>(planes * out_plane, seed + 1000);
  std::vector<T> grad_in(in.size(), T(12345)), want(in.size(), T(0));
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t o = 0; o < out_plane; ++o) {
      want[p * in_h * in_w + argmax[p * out_plane + o]] += grad[p * out_plane + o];
    }
  }
  cpu::pool2d_backward(PoolBackwardArgs{a, true, grad.data(), argmax.data(), grad_in.data()});
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(std::memcmp(&grad_in[i], &want[i], sizeof(T)), 0)
        << "backward, planes " << planes << ", " << in_h << "x" << in_w << ", element " << i << ": "
        << grad_in[i] << " against " << want[i];
  }
}

TEST(PoolLanes, Max2x2MatchesTheGeneralWindowOnAwkwardValues) {
  uint32_t seed = 1;
  for (int64_t in_h : {2, 3, 4, 7, 14, 28}) {
    for (int64_t in_w : {2, 3, 5, 6, 7, 14, 15, 16, 17, 28, 31, 32, 33, 34, 35, 63, 64, 66}) {
      for (int64_t planes : {1, 3}) {
        check_shape<float>(planes, in_h, in_w, seed++);
        check_shape<double>(planes, in_h, in_w, seed++);
      }
    }
  }
}

// Enough planes for the launcher's threads, the MNIST CNN's shapes.
TEST(PoolLanes, Max2x2OnTheCnnShapes) {
  check_shape<float>(64, 28, 28, 11);
  check_shape<float>(128, 14, 14, 12);
  check_shape<float>(256, 7, 7, 13);
}

}  // namespace
}  // namespace tg::kernels
