// The small float32 products (Note [small products] in kernels/cpu/matmul_small.cpp) against a
// naive float32 loop in the order the note names (each element's terms by FMA in k order from
// +0, then alpha·sum + beta·C): the same bits, on both layouts of A, odd sizes (tiles of fewer
// rows, a last vector partly used), padded leading dimensions, alpha and beta (beta = 0
// overwrites a C full of NaN), NaN and infinity in A and B (0·inf is NaN: nothing is skipped);
// a float64 product as a sanity check of that loop; the same bits on 1, 2 and 3 threads; the
// MNIST CNN's last layer through cpu::matmul; and what it declines.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../../core/threads.h"
#include "../../kernels/cpu/matmul_small.h"
#include "../../kernels/matmul.h"
#include "../support/matmul_operands.h"

namespace tg::kernels {
namespace {

using testing::matmul_case_name;
using testing::op_a;
using Case = testing::MatmulCase;
using Operands = testing::MatmulOperands;

Operands make_operands(const Case& t, uint32_t seed) {
  return testing::make_matmul_operands(t, seed);
}

// The note's order in plain float32: fma over k from +0, then alpha·sum, then + beta·C.
std::vector<float> in_order(const Operands& o) {
  const MatmulArgs& g = o.args;
  std::vector<float> out = o.c;
  for (int64_t r = 0; r < g.m; ++r) {
    for (int64_t j = 0; j < g.n; ++j) {
      float sum = 0.0f;
      for (int64_t k = 0; k < g.k; ++k)
        sum = std::fma(op_a(o, r, k), o.b[static_cast<size_t>(k * g.ldb + j)], sum);
      float v = g.alpha == 1.0 ? sum : static_cast<float>(g.alpha) * sum;
      if (g.beta != 0.0)
        v = v + static_cast<float>(g.beta) * o.c[static_cast<size_t>(r * g.ldc + j)];
      out[static_cast<size_t>(r * g.ldc + j)] = v;
    }
  }
  return out;
}

bool run_small(const Operands& o, std::vector<float>& c) {
  return testing::run_on_copy(o, c, cpu::small_product::matmul);
}

// Bit for bit (NaN as NaN), the padding included.
void expect_same_bits(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const bool same = std::isnan(want[i]) ? std::isnan(got[i])
                                          : std::memcmp(&got[i], &want[i], sizeof(float)) == 0;
    if (!same && bad++ < 5)
      ADD_FAILURE() << "element " << i << ": " << got[i] << ", want " << want[i];
  }
  EXPECT_EQ(bad, 0);
}

const Case kCases[] = {
    {false, 128, 256, 10, 0, 1, 1, 0},  // the MNIST CNN's last layer: dx = g·W
    {true, 10, 256, 128, 0, 1, 1, 1},   // and dW = gᵀ·x, added into the gradient
    {false, 1, 16, 1, 0, 1, 1, 0},      // one row, one column of k, one register
    {true, 3, 17, 5, 2, 1, 0.5, 0},     // a tile of 3 rows, a last vector of one lane
    {false, 13, 65, 31, 1, 1, -2, 0.25},
    {true, 6, 130, 64, 3, 1, 1, -1},    // tiles of 4 and 2 rows, three column tiles
    {false, 7, 16, 200, 0, 1, 1, 1},    // one vector exactly
    {true, 129, 63, 40, 5, 1, 1.5, 0},  // over kSplitWork: the tiles shared among threads
    {false, 1, 784, 512, 0, 1, 1, 0},   // one row
};

TEST(MatmulSmall, MatchesTheNaiveLoopBitForBit) {
  if (!cpu::small_product::available()) GTEST_SKIP() << "this CPU has no AVX-512F: the path is off";
  uint32_t seed = 1;
  for (const Case& t : kCases) {
    SCOPED_TRACE(matmul_case_name(t));
    const Operands o = make_operands(t, seed++);
    std::vector<float> c;
    ASSERT_TRUE(run_small(o, c));
    expect_same_bits(c, in_order(o));
    // The loop itself against float64 (a sanity check of the oracle).
    const std::vector<float> loop = in_order(o);
    const MatmulArgs& g = o.args;
    for (int64_t r = 0; r < g.m; ++r) {
      for (int64_t j = 0; j < g.n; ++j) {
        double sum = 0;
        for (int64_t k = 0; k < g.k; ++k)
          sum += static_cast<double>(op_a(o, r, k)) * o.b[static_cast<size_t>(k * g.ldb + j)];
        double want = g.alpha * sum;
        if (g.beta != 0) want += g.beta * o.c[static_cast<size_t>(r * g.ldc + j)];
        EXPECT_NEAR(loop[static_cast<size_t>(r * g.ldc + j)], want, 1e-4 * (1 + std::fabs(want)));
      }
    }
  }
}

TEST(MatmulSmall, NanAndInfinityAreNotSkipped) {
  if (!cpu::small_product::available()) GTEST_SKIP() << "this CPU has no AVX-512F: the path is off";
  for (const bool trans : {false, true}) {
    Operands o = make_operands({trans, 9, 40, 12, 0, 1, 1, 0}, 7);
    const auto set_a = [&](int64_t r, int64_t k, float v) {
      o.a[static_cast<size_t>(trans ? k * o.args.lda + r : r * o.args.lda + k)] = v;
    };
    set_a(2, 3, std::numeric_limits<float>::quiet_NaN());
    set_a(5, 0, std::numeric_limits<float>::infinity());
    set_a(6, 4, 0.0f);  // 0 · inf below: NaN in row 6
    o.b[static_cast<size_t>(4 * o.args.ldb + 11)] = std::numeric_limits<float>::infinity();
    std::vector<float> c;
    ASSERT_TRUE(run_small(o, c));
    expect_same_bits(c, in_order(o));
    EXPECT_TRUE(std::isnan(c[static_cast<size_t>(6 * o.args.ldc + 11)])) << "0 · inf";
  }
}

TEST(MatmulSmall, BitsDoNotDependOnTheThreadCount) {
  if (!cpu::small_product::available()) GTEST_SKIP() << "this CPU has no AVX-512F: the path is off";
  uint32_t seed = 20;
  for (const Case& t : kCases) {
    SCOPED_TRACE(matmul_case_name(t));
    testing::expect_same_bits_on_any_thread_count(make_operands(t, seed++),
                                                  cpu::small_product::matmul);
  }
}

TEST(MatmulSmall, DeclinesWhatItDoesNotTake) {
  const Case base{false, 128, 256, 10, 0, 1, 1, 0};
  std::vector<float> c;
  if (!cpu::small_product::available()) {
    EXPECT_FALSE(run_small(make_operands(base, 30), c));
    return;
  }
  const auto declined = [&](const Operands& o) {
    const bool taken = run_small(o, c);
    std::vector<float> untouched = o.c;
    if (o.args.beta == 0) {
      for (int64_t r = 0; r < o.args.m; ++r)
        std::fill_n(untouched.begin() + r * o.args.ldc, o.args.n,
                    std::numeric_limits<float>::quiet_NaN());
    }
    if (!taken) expect_same_bits(c, untouched);  // nothing written
    return !taken;
  };
  EXPECT_FALSE(declined(make_operands(base, 30)));
  EXPECT_TRUE(declined(make_operands({false, 64, 256, 32, 0, 1, 1, 0}, 31))) << "m·n·k = kMaxWork";
  EXPECT_TRUE(declined(make_operands({false, 32, 15, 32, 0, 1, 1, 0}, 35))) << "under 16 columns";
  Operands o = make_operands(base, 32);
  o.args.trans_b = true;
  o.args.ldb = o.args.k;
  EXPECT_TRUE(declined(o)) << "a transposed B";
  o = make_operands(base, 33);
  o.args.batch = 2;
  EXPECT_TRUE(declined(o)) << "a batch";
  o.args.batch = 1;
  o.args.alpha = 0;
  EXPECT_TRUE(declined(o)) << "alpha = 0 (BLAS does not multiply A·B then)";
  o.args.alpha = 1;
  o.args.k = 0;
  EXPECT_TRUE(declined(o)) << "k = 0";
  o.args.k = 10;
  o.args.dtype = DType::Float64;
  EXPECT_TRUE(declined(o)) << "float64";
}

// Through cpu::matmul: the CNN's last-layer products take the path (the same bits as calling
// it), so its runs need no oneDNN sgemm at all.
TEST(MatmulSmall, CpuMatmulUsesItForTheLastLayersProducts) {
  uint32_t seed = 40;
  for (const Case& t : {kCases[0], kCases[1]}) {
    SCOPED_TRACE(matmul_case_name(t));
    const Operands o = make_operands(t, seed++);
    std::vector<float> c = o.c;
    MatmulArgs g = o.args;
    g.a = o.a.data();
    g.b = o.b.data();
    g.c = c.data();
    cpu::matmul(g);
    if (cpu::small_product::available()) expect_same_bits(c, in_order(o));
  }
}

}  // namespace
}  // namespace tg::kernels
