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

namespace tg::kernels {
namespace {

struct Case {
  bool trans_a;
  int64_t m, n, k;
  int64_t pad;  // added to every leading dimension
  double density, alpha, beta;
};

struct Operands {
  std::vector<float> a, b, c;
  MatmulArgs args{};
};

// op(A) with about `density` of its entries nonzero (normal values), B normal, C normal.
Operands make_operands(const Case& t, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<double> uniform;
  Operands o;
  MatmulArgs& g = o.args;
  g.dtype = DType::Float32;
  g.trans_a = t.trans_a;
  g.m = t.m;
  g.n = t.n;
  g.k = t.k;
  g.batch = 1;
  g.lda = (t.trans_a ? t.m : t.k) + t.pad;
  g.ldb = t.n + t.pad;
  g.ldc = t.n + t.pad;
  g.alpha = t.alpha;
  g.beta = t.beta;
  o.a.assign(static_cast<size_t>((t.trans_a ? t.k : t.m) * g.lda), 0.0f);
  for (float& v : o.a) v = uniform(rng) < t.density ? normal(rng) : 0.0f;
  o.b.resize(static_cast<size_t>(t.k * g.ldb));
  for (float& v : o.b) v = normal(rng);
  o.c.resize(static_cast<size_t>(t.m * g.ldc));
  for (float& v : o.c) v = normal(rng);
  return o;
}

float op_a(const Operands& o, int64_t r, int64_t k) {
  const MatmulArgs& g = o.args;
  return g.trans_a ? o.a[static_cast<size_t>(k * g.lda + r)]
                   : o.a[static_cast<size_t>(r * g.lda + k)];
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

// Runs the sparse product on a copy of C (NaN-filled when beta = 0); false when it declined.
bool run_sparse(const Operands& o, std::vector<float>& c) {
  c = o.c;
  if (o.args.beta == 0) {  // what C held must not be read: NaN there, padding left as it was
    for (int64_t r = 0; r < o.args.m; ++r) {
      std::fill_n(c.begin() + r * o.args.ldc, o.args.n, std::numeric_limits<float>::quiet_NaN());
    }
  }
  MatmulArgs g = o.args;
  g.a = o.a.data();
  g.b = o.b.data();
  g.c = c.data();
  return cpu::sparse_rows::matmul(g);
}

std::string name(const Case& t) {
  return std::string(t.trans_a ? "A^T " : "A ") + std::to_string(t.m) + "x" + std::to_string(t.n) +
         "x" + std::to_string(t.k) + " pad " + std::to_string(t.pad) + " density " +
         std::to_string(t.density) + " alpha " + std::to_string(t.alpha) + " beta " +
         std::to_string(t.beta);
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
    SCOPED_TRACE(name(t));
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
  const int saved = get_num_threads();
  uint32_t seed = 20;
  for (const Case& t : kCases) {
    SCOPED_TRACE(name(t));
    const Operands o = make_operands(t, seed++);
    std::vector<float> first, c;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      ASSERT_TRUE(run_sparse(o, c));
      if (first.empty()) first = c;
      EXPECT_EQ(std::memcmp(c.data(), first.data(), c.size() * sizeof(float)), 0)
          << threads << " threads";
    }
  }
  set_num_threads(saved);
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
