// The float32 product by the nonzero entries of op(A)'s rows (Note [sparse rows product] in
// kernels/cpu/matmul_sparse.cpp) against a float64 product of the same operands: both layouts of
// A, odd sizes (the last vector of a row tile partly used), padded leading dimensions, alpha and
// beta (beta = 0 overwrites a C full of NaN), rows with no entries, NaN and infinity in A; the
// same bits on 1, 2 and 3 threads; and what it declines: a dense A, a B with an infinity or a
// NaN (0·inf is NaN in the dense product), a transposed B, a batch, alpha = 0, float64 and
// small products.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../../core/threads.h"
#include "../../kernels/cpu/matmul_sparse.h"
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

// alpha·op(A)·B + beta·C in float64; C not read when beta = 0.
std::vector<double> reference(const Operands& o) {
  const MatmulArgs& g = o.args;
  std::vector<double> out(static_cast<size_t>(g.m * g.n));
  for (int64_t r = 0; r < g.m; ++r) {
    for (int64_t j = 0; j < g.n; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < g.k; ++k) {
        sum += static_cast<double>(op_a(o, r, k)) * o.b[static_cast<size_t>(k * g.ldb + j)];
      }
      double v = g.alpha * sum;
      if (g.beta != 0) v += g.beta * o.c[static_cast<size_t>(r * g.ldc + j)];
      out[static_cast<size_t>(r * g.n + j)] = v;
    }
  }
  return out;
}

bool run_sparse(const Operands& o, std::vector<float>& c) {
  return testing::run_on_copy(o, c, cpu::sparse_rows::matmul);
}

void expect_matches_reference(const Operands& o, const std::vector<float>& c) {
  const MatmulArgs& g = o.args;
  const std::vector<double> want = reference(o);
  const double tolerance = 2e-6 * std::sqrt(static_cast<double>(g.k)) * 4;
  int64_t bad = 0;
  for (int64_t r = 0; r < g.m; ++r) {
    for (int64_t j = 0; j < g.n; ++j) {
      const double w = want[static_cast<size_t>(r * g.n + j)];
      const float got = c[static_cast<size_t>(r * g.ldc + j)];
      const bool ok = std::isnan(w)
                          ? std::isnan(got)
                          : got == w || std::fabs(got - w) <= tolerance * (1 + std::fabs(w));
      if (!ok && bad++ < 5)
        ADD_FAILURE() << "C[" << r << ", " << j << "] = " << got << ", want " << w;
    }
  }
  EXPECT_EQ(bad, 0);
  // The padding of C is not written.
  for (int64_t r = 0; r < g.m; ++r) {
    for (int64_t j = g.n; j < g.ldc; ++j) {
      EXPECT_EQ(std::memcmp(&c[static_cast<size_t>(r * g.ldc + j)],
                            &o.c[static_cast<size_t>(r * g.ldc + j)], sizeof(float)),
                0);
    }
  }
}

const Case kCases[] = {
    {true, 512, 784, 128, 0, 0.25, 1, 0},   // the MLP's dW1 = g1ᵀ·x
    {false, 128, 512, 256, 0, 0.27, 1, 0},  // its dx2 = g2·W2
    {true, 256, 512, 128, 0, 0.2, 1, 1},    // dW2, accumulated into C
    {false, 129, 65, 257, 3, 0.1, 0.5, -0.5},
    {true, 131, 17, 1031, 1, 0.25, 1, 0},     // a last vector of one lane
    {false, 33, 1, 40000, 0, 0.05, 1, 0},     // one column
    {true, 1, 1000, 2000, 5, 0.2, 2, 0},      // one row
    {false, 300, 63, 100, 0, 0.28, 1, 0.25},  // near the density bound
    {true, 70, 200, 96, 7, 0.01, 1, 0},       // most rows without entries
    {false, 2000, 50, 20, 0, 0.0, 1, 3},      // no entries at all: C = beta·C
    {false, 2048, 4, 2048, 0, 0.28, 1, 0},    // over 2^20 entries: lists not kept
};

TEST(MatmulSparse, MatchesAFloat64Product) {
  if (!cpu::sparse_rows::available()) GTEST_SKIP() << "this CPU has no AVX-512F: the path is off";
  uint32_t seed = 1;
  for (const Case& t : kCases) {
    SCOPED_TRACE(matmul_case_name(t));
    const Operands o = make_operands(t, seed++);
    std::vector<float> c;
    ASSERT_TRUE(run_sparse(o, c));
    expect_matches_reference(o, c);
  }
}

TEST(MatmulSparse, NanAndInfinityInAArePropagated) {
  if (!cpu::sparse_rows::available()) GTEST_SKIP() << "this CPU has no AVX-512F: the path is off";
  for (const bool trans : {false, true}) {
    Operands o = make_operands({trans, 64, 100, 256, 0, 0.1, 1, 0}, 9);
    const auto set = [&](int64_t r, int64_t k, float v) {
      o.a[static_cast<size_t>(trans ? k * o.args.lda + r : r * o.args.lda + k)] = v;
    };
    set(3, 17, std::numeric_limits<float>::quiet_NaN());
    set(40, 200, std::numeric_limits<float>::infinity());
    set(41, 0, -std::numeric_limits<float>::infinity());
    std::vector<float> c;
    ASSERT_TRUE(run_sparse(o, c));
    expect_matches_reference(o, c);
    EXPECT_TRUE(std::isnan(c[static_cast<size_t>(3 * o.args.ldc)]));
  }
}

TEST(MatmulSparse, BitsDoNotDependOnTheThreadCount) {
  if (!cpu::sparse_rows::available()) GTEST_SKIP() << "this CPU has no AVX-512F: the path is off";
  uint32_t seed = 20;
  for (const Case& t : kCases) {
    SCOPED_TRACE(matmul_case_name(t));
    testing::expect_same_bits_on_any_thread_count(make_operands(t, seed++),
                                                  cpu::sparse_rows::matmul);
  }
}

TEST(MatmulSparse, DeclinesWhatItCannotComputeAsTheDenseProductWould) {
  const Case base{true, 256, 300, 128, 0, 0.2, 1, 0};
  std::vector<float> c;
  if (!cpu::sparse_rows::available()) {
    EXPECT_FALSE(run_sparse(make_operands(base, 30), c));
    return;
  }
  EXPECT_TRUE(run_sparse(make_operands(base, 30), c));
  Case dense = base;
  dense.density = 0.5;
  EXPECT_FALSE(run_sparse(make_operands(dense, 31), c)) << "a dense A";
  for (const float bad :
       {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
        std::numeric_limits<float>::quiet_NaN()}) {
    Operands o = make_operands(base, 32);
    o.b[static_cast<size_t>(77 * o.args.ldb + 299)] = bad;  // the last column of a row
    EXPECT_FALSE(run_sparse(o, c)) << "B holds " << bad;
  }
  Operands small = make_operands({false, 8, 8, 8, 0, 0.1, 1, 0}, 33);
  EXPECT_FALSE(run_sparse(small, c)) << "m·n·k under kMinWork";
  Operands o = make_operands(base, 34);
  o.args.trans_b = true;
  EXPECT_FALSE(run_sparse(o, c)) << "a transposed B";
  o.args.trans_b = false;
  o.args.batch = 2;
  EXPECT_FALSE(run_sparse(o, c)) << "a batch";
  o.args.batch = 1;
  o.args.alpha = 0;
  EXPECT_FALSE(run_sparse(o, c)) << "alpha = 0 (BLAS does not multiply A·B then)";
  o.args.alpha = 1;
  o.args.dtype = DType::Float64;
  EXPECT_FALSE(run_sparse(o, c)) << "float64";
}

// Through cpu::matmul: a mostly-zero A takes the path and gives the float64 product's values;
// the caller cannot tell the paths apart but by speed.
TEST(MatmulSparse, CpuMatmulUsesItForAMostlyZeroA) {
  const Operands o = make_operands({true, 512, 784, 128, 0, 0.25, 1, 0}, 40);
  std::vector<float> c = o.c;
  MatmulArgs g = o.args;
  g.a = o.a.data();
  g.b = o.b.data();
  g.c = c.data();
  cpu::matmul(g);
  expect_matches_reference(o, c);
  std::vector<float> direct;
  if (cpu::sparse_rows::available()) {
    ASSERT_TRUE(run_sparse(o, direct));
    EXPECT_EQ(std::memcmp(c.data(), direct.data(), c.size() * sizeof(float)), 0);
  }
}

}  // namespace
}  // namespace tg::kernels
