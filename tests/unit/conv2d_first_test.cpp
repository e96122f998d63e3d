// A first layer's forward on our own loop (Note [first layer] in kernels/cpu/conv2d_first.cpp)
// against a float64 direct convolution with zero padding: planes from 1x1 to 28x28 (rows
// shorter and longer than a pass of four pixels), 16 to 48 channels, with and without a bias;
// the same bits on 1, 2 and 3 threads; a padded tap multiplies 0 (an infinite weight gives NaN
// at the border, as im2col's product does), a NaN input spreads to its 3x3 neighbourhood; and
// what the path does not take.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../../kernels/conv2d.h"
#include "../../kernels/cpu/conv2d_first.h"

namespace tg::kernels {
namespace {

struct Layer {
  int64_t n, h, w, c_out;
  bool bias;
};

struct Operands {
  std::vector<float> x, weight, bias, out;
  Conv2dArgs args{};
};

Operands make(const Layer& l, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Operands o;
  o.x.resize(static_cast<size_t>(l.n * l.h * l.w));
  o.weight.resize(static_cast<size_t>(l.c_out * 9));
  o.bias.resize(static_cast<size_t>(l.c_out));
  for (float& v : o.x) v = normal(rng);
  for (float& v : o.weight) v = normal(rng);
  for (float& v : o.bias) v = normal(rng);
  o.out.assign(static_cast<size_t>(l.n * l.c_out * l.h * l.w), std::nanf(""));
  Conv2dArgs& a = o.args;
  a.dtype = DType::Float32;
  a.g = {l.n, 1, l.h, l.w, l.c_out, 3, 3, 1, 1, 1, 1, 1, 1, 1, l.h, l.w};
  a.x = o.x.data();
  a.weight = o.weight.data();
  a.out = o.out.data();
  a.bias = l.bias ? o.bias.data() : nullptr;
  a.blocked = true;
  return o;
}

// Output (n, c, y, x) in nChw16c.
size_t at(const Layer& l, int64_t n, int64_t c, int64_t y, int64_t x) {
  return static_cast<size_t>((((n * (l.c_out / 16) + c / 16) * l.h + y) * l.w + x) * 16 + c % 16);
}

double reference(const Layer& l, const Operands& o, int64_t n, int64_t c, int64_t y, int64_t x) {
  double sum = 0;
  for (int ky = 0; ky < 3; ++ky) {
    for (int kx = 0; kx < 3; ++kx) {
      const int64_t sy = y + ky - 1, sx = x + kx - 1;
      const bool inside = sy >= 0 && sy < l.h && sx >= 0 && sx < l.w;
      const double v = inside ? o.x[static_cast<size_t>((n * l.h + sy) * l.w + sx)] : 0.0;
      sum += v * o.weight[static_cast<size_t>(c * 9 + ky * 3 + kx)];
    }
  }
  return l.bias ? sum + o.bias[static_cast<size_t>(c)] : sum;
}

void expect_matches_reference(const Layer& l, const Operands& o) {
  int64_t bad = 0;
  for (int64_t n = 0; n < l.n; ++n) {
    for (int64_t c = 0; c < l.c_out; ++c) {
      for (int64_t y = 0; y < l.h; ++y) {
        for (int64_t x = 0; x < l.w; ++x) {
          const double want = reference(l, o, n, c, y, x);
          const float got = o.out[at(l, n, c, y, x)];
          const bool ok = std::isnan(want) ? std::isnan(got)
                                           : got == want || std::fabs(got - want) <=
                                                                1e-5 * (1 + std::fabs(want));
          if (!ok && bad++ < 5)
            ADD_FAILURE() << "(" << n << ", " << c << ", " << y << ", " << x << ") = " << got
                          << ", want " << want;
        }
      }
    }
  }
  EXPECT_EQ(bad, 0);
}

const Layer kLayers[] = {
    {1, 1, 1, 16, false},  {2, 5, 7, 32, true}, {3, 28, 28, 32, true},
    {1, 9, 13, 48, false}, {2, 4, 3, 16, true}, {17, 6, 8, 16, false},
};

std::string name(const Layer& l) {
  return "N" + std::to_string(l.n) + " " + std::to_string(l.h) + "x" + std::to_string(l.w) + " C" +
         std::to_string(l.c_out) + (l.bias ? " bias" : "");
}

TEST(Conv2dFirst, MatchesAFloat64Convolution) {
  uint32_t seed = 1;
  for (const Layer& l : kLayers) {
    SCOPED_TRACE(name(l));
    Operands o = make(l, seed++);
    if (!cpu::first_layer::takes(o.args)) GTEST_SKIP() << "this CPU has no AVX-512F";
    cpu::first_layer::forward(o.args);
    expect_matches_reference(l, o);
  }
}

TEST(Conv2dFirst, BitsDoNotDependOnTheThreadCount) {
  const int saved = omp_get_max_threads();
  const Layer l{37, 28, 28, 32, true};
  std::vector<float> first;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    Operands o = make(l, 7);
    if (!cpu::first_layer::takes(o.args)) GTEST_SKIP() << "this CPU has no AVX-512F";
    cpu::first_layer::forward(o.args);
    if (first.empty()) first = o.out;
    EXPECT_EQ(std::memcmp(o.out.data(), first.data(), first.size() * sizeof(float)), 0)
        << threads << " threads";
  }
  omp_set_num_threads(saved);
}

TEST(Conv2dFirst, PaddedTapsMultiplyZeroAndNanSpreads) {
  const Layer l{1, 6, 9, 16, false};
  Operands o = make(l, 11);
  if (!cpu::first_layer::takes(o.args)) GTEST_SKIP() << "this CPU has no AVX-512F";
  o.weight[3 * 9 + 0] = std::numeric_limits<float>::infinity();  // channel 3, tap (0, 0)
  o.x[static_cast<size_t>(4 * l.w + 5)] = std::nanf("");         // pixel (4, 5)
  cpu::first_layer::forward(o.args);
  expect_matches_reference(l, o);
  EXPECT_TRUE(std::isnan(o.out[at(l, 0, 3, 0, 4)])) << "channel 3's top row meets the padding";
  EXPECT_TRUE(std::isnan(o.out[at(l, 0, 0, 3, 4)])) << "a neighbour of the NaN pixel";
  EXPECT_FALSE(std::isnan(o.out[at(l, 0, 0, 0, 0)])) << "far from both";
}

TEST(Conv2dFirst, DeclinesOtherLayers) {
  const Layer l{2, 8, 8, 32, true};
  Operands o = make(l, 3);
  const bool here = cpu::first_layer::takes(o.args);
  const auto declines = [&](auto change, const char* what) {
    Operands other = make(l, 3);
    change(other.args);
    EXPECT_FALSE(cpu::first_layer::takes(other.args)) << what;
  };
  declines([](Conv2dArgs& a) { a.g.c_in = 2; }, "two input channels");
  declines([](Conv2dArgs& a) { a.g.c_out = 24; }, "channels not a multiple of 16");
  declines([](Conv2dArgs& a) { a.g.stride_h = 2; }, "a stride");
  declines([](Conv2dArgs& a) { a.g.pad_w = 0; }, "no padding");
  declines([](Conv2dArgs& a) { a.g.kh = a.g.kw = 5; }, "a 5x5 filter");
  declines([](Conv2dArgs& a) { a.blocked = false; }, "an NCHW output");
  declines([](Conv2dArgs& a) { a.dtype = DType::Float64; }, "float64");
  if (!here) GTEST_SKIP() << "this CPU has no AVX-512F: nothing taken";
}

}  // namespace
}  // namespace tg::kernels
