// bench_ops: CPU matrix products and convolutions through tamegrad, as a fraction of
// OpenBLAS's own sgemm rate on the same GEMM shapes (a conv is compared with the GEMM its
// im2col lowering performs: M = C_out/groups, N = out_h·out_w, K = C_in/groups·kh·kw,
// once per sample and group).
//
//   bench_ops [--json] [--quick]
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "../core/autograd.h"
#include "../core/factory.h"
#include "../core/ops.h"
#include "../core/threads.h"
#include "bench_common.h"

extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                            const float* a, int lda, const float* b, int ldb, float beta, float* c,
                            int ldc);

namespace tg::bench {
namespace {

// OpenBLAS's rate for `count` products of (m, k)·(k, n), in GFLOP/s.
double sgemm_gflops(int64_t m, int64_t n, int64_t k, int64_t count, int repeats) {
  std::vector<float> a(m * k, 0.5f), b(k * n, 0.25f), c(m * n);
  const double s = best_seconds(Device::cpu(), repeats, [&] {
    for (int64_t i = 0; i < count; ++i) {
      cblas_sgemm(101, 111, 111, int(m), int(n), int(k), 1.0f, a.data(), int(k), b.data(), int(n),
                  0.0f, c.data(), int(n));
    }
  });
  return 2.0 * m * n * k * count / s / 1e9;
}

void row(const Flags& flags, const char* name, const std::string& shape, double ours, double blas) {
  if (flags.json) {
    std::printf(
        "{\"name\": \"%s\", \"shape\": \"%s\", \"gflops\": %.2f, \"sgemm_gflops\": %.2f, "
        "\"fraction_of_sgemm\": %.3f}\n",
        name, shape.c_str(), ours, blas, ours / blas);
  } else {
    std::printf("%-8s %-34s %10.1f %12.1f %9.2f\n", name, shape.c_str(), ours, blas, ours / blas);
  }
}

}  // namespace
}  // namespace tg::bench

int main(int argc, char** argv) {
  tg::use_openmp_spin_policy(argv);  // Note [OpenMP wait policy] in core/threads.h
  using namespace tg;
  const bench::Flags flags = bench::parse_flags(argc, argv, "bench_ops [--json] [--quick]");
  const int repeats = flags.quick ? 2 : 5;
  if (!flags.json) {
    std::printf("CPU, float32; GFLOP/s of tamegrad vs OpenBLAS sgemm on the same GEMM shapes\n");
    std::printf("%-8s %-34s %10s %12s %9s\n", "op", "shape", "GFLOP/s", "sgemm GF/s", "fraction");
  }
  NoGradGuard no_grad;
  const std::vector<std::array<int64_t, 3>> gemms =
      flags.quick ? std::vector<std::array<int64_t, 3>>{{256, 256, 256}}
                  : std::vector<std::array<int64_t, 3>>{{64, 784, 128},
                                                        {128, 10, 128},
                                                        {256, 256, 256},
                                                        {512, 512, 512},
                                                        {1024, 1024, 1024}};
  for (const auto& [m, k, n] : gemms) {
    const Tensor a = randn({m, k}), b = randn({k, n});
    const double s = bench::best_seconds(Device::cpu(), repeats, [&] { matmul(a, b); });
    const double ours = 2.0 * m * n * k / s / 1e9;
    bench::row(flags, "matmul",
               "(" + std::to_string(m) + "," + std::to_string(k) + ")x(" + std::to_string(k) + "," +
                   std::to_string(n) + ")",
               ours, bench::sgemm_gflops(m, n, k, 1, repeats));
  }
  struct Conv {
    int64_t n, c, hw, oc, k, pad;
  };
  const std::vector<Conv> convs = flags.quick ? std::vector<Conv>{{8, 16, 14, 32, 3, 1}}
                                              : std::vector<Conv>{{64, 1, 28, 32, 3, 1},
                                                                  {64, 32, 14, 64, 3, 1},
                                                                  {32, 64, 7, 128, 3, 1},
                                                                  {16, 3, 32, 64, 5, 2}};
  for (const Conv& c : convs) {
    const Tensor x = randn({c.n, c.c, c.hw, c.hw}), w = randn({c.oc, c.c, c.k, c.k});
    const int64_t out = c.hw + 2 * c.pad - c.k + 1;
    const double s = bench::best_seconds(Device::cpu(), repeats, [&] {
      conv2d(x, w, Tensor(), {1, 1}, {c.pad, c.pad});
    });
    const int64_t m = c.oc, n = out * out, k = c.c * c.k * c.k;
    const double ours = 2.0 * m * n * k * c.n / s / 1e9;
    bench::row(flags, "conv2d",
               "x(" + std::to_string(c.n) + "," + std::to_string(c.c) + "," + std::to_string(c.hw) +
                   "," + std::to_string(c.hw) + ") w(" + std::to_string(c.oc) + "," +
                   std::to_string(c.c) + "," + std::to_string(c.k) + "," + std::to_string(c.k) +
                   ")",
               ours, bench::sgemm_gflops(m, n, k, c.n, repeats));
  }
  return 0;
}
