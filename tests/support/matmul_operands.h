// Float32 operands of one product C = alpha·op(A)·B + beta·C, for the tests of the CPU matmul
// paths that take MatmulArgs directly (tests/unit/matmul_sparse_test.cpp,
// tests/unit/matmul_small_test.cpp): normal values, op(A) with about `density` of its entries
// nonzero, every leading dimension padded by `pad`.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../../core/threads.h"
#include "../../kernels/matmul.h"

namespace tg::testing {

struct MatmulCase {
  bool trans_a;
  int64_t m, n, k;
  int64_t pad;  // added to every leading dimension
  double density, alpha, beta;
};

struct MatmulOperands {
  std::vector<float> a, b, c;
  kernels::MatmulArgs args{};
};

inline MatmulOperands make_matmul_operands(const MatmulCase& t, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<double> uniform;
  MatmulOperands o;
  kernels::MatmulArgs& g = o.args;
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

// op(A)[r, k].
inline float op_a(const MatmulOperands& o, int64_t r, int64_t k) {
  const kernels::MatmulArgs& g = o.args;
  return g.trans_a ? o.a[static_cast<size_t>(k * g.lda + r)]
                   : o.a[static_cast<size_t>(r * g.lda + k)];
}

// Runs path(args) on a copy of C (NaN-filled when beta = 0: what C held must not be read; the
// padding left as it was); returns what the path returned (false: it declined).
template <typename Path>
bool run_on_copy(const MatmulOperands& o, std::vector<float>& c, Path&& path) {
  c = o.c;
  if (o.args.beta == 0) {
    for (int64_t r = 0; r < o.args.m; ++r)
      std::fill_n(c.begin() + r * o.args.ldc, o.args.n, std::numeric_limits<float>::quiet_NaN());
  }
  kernels::MatmulArgs g = o.args;
  g.a = o.a.data();
  g.b = o.b.data();
  g.c = c.data();
  return path(g);
}

// The path's results on 1, 2 and 3 threads are the same bits (it must take the product each
// time).
template <typename Path>
void expect_same_bits_on_any_thread_count(const MatmulOperands& o, Path&& path) {
  const int saved = get_num_threads();
  std::vector<float> first, c;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    EXPECT_TRUE(run_on_copy(o, c, path)) << "declined on " << threads << " threads";
    if (first.empty()) first = c;
    EXPECT_EQ(std::memcmp(c.data(), first.data(), c.size() * sizeof(float)), 0)
        << threads << " threads";
  }
  set_num_threads(saved);
}

inline std::string matmul_case_name(const MatmulCase& t) {
  return std::string(t.trans_a ? "A^T " : "A ") + std::to_string(t.m) + "x" + std::to_string(t.n) +
         "x" + std::to_string(t.k) + " pad " + std::to_string(t.pad) + " density " +
         std::to_string(t.density) + " alpha " + std::to_string(t.alpha) + " beta " +
         std::to_string(t.beta);
}

}  // namespace tg::testing
