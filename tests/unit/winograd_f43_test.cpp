// Our Winograd F(4x4, 3x3) blocks (kernels/cpu/winograd_f43.h; Note [winograd f43]) against a
// direct 3x3 pad-1 convolution in double: the forward (with and without a bias) and the data
// gradient (the filter turned and transposed) on 1, 3 and 16 samples, 16 to 80 channels each
// way (a last GEMM column block of 16, 32 and 48) and planes from 1x1 to 17x9 (tiles cut at
// every edge), with NaN guards around the output to show nothing is written outside it; the
// tolerance is conv2d_backend_test's for Winograd, max(1e-4, 3e-5 x the result's RMS). On a
// CPU without AVX-512F the tests say so and skip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "../../kernels/cpu/winograd_f43.h"

namespace tg::kernels::cpu::winograd {
namespace {

constexpr int64_t kGuard = 16;  // floats before and after the output

struct FreeAligned {
  void operator()(float* p) const { std::free(p); }
};
using Aligned = std::unique_ptr<float, FreeAligned>;

// n floats, 64-byte aligned, set to `fill`.
Aligned aligned(size_t n, float fill = 0.0f) {
  const size_t bytes = (std::max<size_t>(n, 1) * sizeof(float) + 63) / 64 * 64;
  Aligned p(static_cast<float*>(std::aligned_alloc(64, bytes)));
  for (size_t i = 0; i < n; ++i) p.get()[i] = fill;
  return p;
}

// Element (n, c, y, x) of a (N, C/16, H, W, 16) buffer.
size_t blocked(int64_t c_total, int64_t h, int64_t w, int64_t n, int64_t c, int64_t y, int64_t x) {
  return static_cast<size_t>((((n * (c_total / 16) + c / 16) * h + y) * w + x) * 16 + c % 16);
}

Conv2dGeometry geometry(int64_t n, int64_t c_in, int64_t c_out, int64_t h, int64_t w) {
  return {n, c_in, h, w, c_out, 3, 3, 1, 1, 1, 1, 1, 1, 1, h, w};
}

struct Case {
  int64_t n, c_in, c_out, h, w;
  bool bias;
  Direction direction;
};

void check(const Case& k, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << "n " << k.n << " c_in " << k.c_in << " c_out " << k.c_out
                                  << " " << k.h << "x" << k.w << (k.bias ? " bias" : "")
                                  << (k.direction == Direction::Data ? " data" : " forward"));
  const Conv2dGeometry g = geometry(k.n, k.c_in, k.c_out, k.h, k.w);
  ASSERT_TRUE(takes(g));
  const bool forward = k.direction == Direction::Forward;
  const int64_t c_from = forward ? k.c_in : k.c_out, c_to = forward ? k.c_out : k.c_in;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> weight(static_cast<size_t>(k.c_out * k.c_in * 9)), bias(c_to);
  for (float& v : weight) v = 0.2f * normal(rng);
  for (float& v : bias) v = normal(rng);
  const size_t x_size = static_cast<size_t>(k.n * c_from * k.h * k.w);
  const size_t y_size = static_cast<size_t>(k.n * c_to * k.h * k.w);
  Aligned x = aligned(x_size);
  for (size_t i = 0; i < x_size; ++i) x.get()[i] = normal(rng);
  Aligned u = aligned(filter_floats(g)), scratch = aligned(scratch_floats(c_from, c_to));
  // The output between NaN guards, its start 64-byte aligned.
  const float guard = std::numeric_limits<float>::quiet_NaN();
  Aligned y = aligned(y_size + 2 * kGuard, guard);
  float* out = y.get() + kGuard;
  transform_filter(g, k.direction, weight.data(), u.get());
  convolve_block(k.n, c_from, c_to, k.h, k.w, x.get(), u.get(), k.bias ? bias.data() : nullptr, out,
                 scratch.get());
  for (int64_t i = 0; i < kGuard; ++i) {
    ASSERT_TRUE(std::isnan(y.get()[i])) << "written before the output";
    ASSERT_TRUE(std::isnan(out[y_size + static_cast<size_t>(i)])) << "written after the output";
  }
  // The direct convolution in double: forward y[t] += w[t][f][a][b] x[f][y + a - 1][x + b - 1];
  // data dx[t] += w[f][t][a][b] dy[f][y - a + 1][x - b + 1].
  std::vector<double> want(y_size, 0.0);
  double square = 0;
  for (int64_t n = 0; n < k.n; ++n) {
    for (int64_t t = 0; t < c_to; ++t) {
      for (int64_t yy = 0; yy < k.h; ++yy) {
        for (int64_t xx = 0; xx < k.w; ++xx) {
          double sum = k.bias ? bias[t] : 0.0;
          for (int64_t f = 0; f < c_from; ++f) {
            for (int64_t a = 0; a < 3; ++a) {
              for (int64_t b = 0; b < 3; ++b) {
                const int64_t sy = forward ? yy + a - 1 : yy - a + 1;
                const int64_t sx = forward ? xx + b - 1 : xx - b + 1;
                if (sy < 0 || sy >= k.h || sx < 0 || sx >= k.w) continue;
                const float tap =
                    forward ? weight[static_cast<size_t>(((t * k.c_in + f) * 3 + a) * 3 + b)]
                            : weight[static_cast<size_t>(((f * k.c_in + t) * 3 + a) * 3 + b)];
                sum += double(tap) * x.get()[blocked(c_from, k.h, k.w, n, f, sy, sx)];
              }
            }
          }
          want[blocked(c_to, k.h, k.w, n, t, yy, xx)] = sum;
          square += sum * sum;
        }
      }
    }
  }
  const double rms = std::sqrt(square / static_cast<double>(std::max<size_t>(y_size, 1)));
  const double tolerance = std::max(1e-4, 3e-5 * rms);
  for (size_t i = 0; i < y_size; ++i) {
    ASSERT_NEAR(out[i], want[i], tolerance) << "at " << i << " of " << y_size;
  }
}

class WinogradF43 : public testing::Test {
 protected:
  void SetUp() override {
    if (!available()) GTEST_SKIP() << "this CPU has no AVX-512F: the Winograd blocks do not run";
  }
};

TEST_F(WinogradF43, ForwardMatchesTheDirectConvolution) {
  uint32_t seed = 1;
  for (const int64_t n : {1, 3, 16}) {
    for (const auto& [c_in, c_out] :
         {std::pair<int64_t, int64_t>{16, 16}, {32, 64}, {48, 32}, {16, 80}}) {
      for (const auto& [h, w] :
           {std::pair<int64_t, int64_t>{1, 1}, {2, 3}, {4, 4}, {5, 5}, {7, 7}, {14, 14}, {17, 9}}) {
        if (n == 16 && h * w > 49 && c_in * c_out > 1024) continue;  // the reference's time
        check({n, c_in, c_out, h, w, (seed & 1) != 0, Direction::Forward}, seed);
        ++seed;
      }
    }
  }
}

TEST_F(WinogradF43, DataGradientMatchesTheDirectConvolution) {
  uint32_t seed = 100;
  for (const int64_t n : {1, 3, 16}) {
    for (const auto& [c_in, c_out] :
         {std::pair<int64_t, int64_t>{16, 16}, {32, 64}, {48, 32}, {80, 16}}) {
      for (const auto& [h, w] :
           {std::pair<int64_t, int64_t>{1, 1}, {2, 3}, {5, 5}, {7, 7}, {14, 14}, {17, 9}}) {
        if (n == 16 && h * w > 49 && c_in * c_out > 1024) continue;
        check({n, c_in, c_out, h, w, false, Direction::Data}, seed);
        ++seed;
      }
    }
  }
}

TEST_F(WinogradF43, TheMnistLayersOnABlock) {
  check({16, 32, 64, 14, 14, true, Direction::Forward}, 7);
  check({16, 64, 128, 7, 7, true, Direction::Forward}, 8);
  check({16, 32, 64, 14, 14, false, Direction::Data}, 9);
  check({16, 64, 128, 7, 7, false, Direction::Data}, 10);
}

TEST_F(WinogradF43, AnEmptyBlockWritesNothing) {
  const Conv2dGeometry g = geometry(0, 16, 16, 5, 5);
  Aligned u = aligned(filter_floats(g)), scratch = aligned(scratch_floats(16, 16));
  std::vector<float> weight(16 * 16 * 9, 1.0f);
  transform_filter(g, Direction::Forward, weight.data(), u.get());
  Aligned y = aligned(16, std::numeric_limits<float>::quiet_NaN());
  convolve_block(0, 16, 16, 5, 5, nullptr, u.get(), nullptr, y.get(), scratch.get());
  for (int i = 0; i < 16; ++i) EXPECT_TRUE(std::isnan(y.get()[i]));
}

TEST(WinogradF43Takes, OnlyThreeByThreeSamePaddingStrideOne) {
  Conv2dGeometry g = geometry(16, 32, 64, 14, 14);
  EXPECT_TRUE(takes(g));
  Conv2dGeometry other = g;
  other.c_in = 24;  // not a multiple of 16
  EXPECT_FALSE(takes(other));
  other = g;
  other.stride_h = other.stride_w = 2;
  other.out_h = other.out_w = 7;
  EXPECT_FALSE(takes(other));
  other = g;
  other.pad_h = other.pad_w = 0;
  other.out_h = other.out_w = 12;
  EXPECT_FALSE(takes(other));
  other = g;
  other.dil_h = other.dil_w = 2;
  EXPECT_FALSE(takes(other));
  other = g;
  other.groups = 2;
  EXPECT_FALSE(takes(other));
  other = g;
  other.kh = other.kw = 5;
  EXPECT_FALSE(takes(other));
}

}  // namespace
}  // namespace tg::kernels::cpu::winograd
