// CPU launcher of the matrix product (kernels/gemm.h): OpenBLAS's CBLAS, one call per
// batch entry (OpenBLAS threads each call itself).
#include "tamegrad/kernels/gemm.h"

#include <algorithm>

// The two CBLAS entry points used, declared here (standard CBLAS ABI) rather than through
// a cblas.h whose location differs between distributions.
extern "C" {
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                 const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);
void cblas_dgemm(int order, int trans_a, int trans_b, int m, int n, int k, double alpha,
                 const double* a, int lda, const double* b, int ldb, double beta, double* c,
                 int ldc);
}

namespace tg::kernels::cpu {

namespace {
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
}

void gemm(const GemmArgs& g) {
  check_gemm_args(g);
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  const int ta = g.trans_a ? kTrans : kNoTrans, tb = g.trans_b ? kTrans : kNoTrans;
  const int m = static_cast<int>(g.m), n = static_cast<int>(g.n), k = static_cast<int>(g.k);
  // BLAS rejects a leading dimension below 1 even when k = 0.
  const int lda = static_cast<int>(std::max<int64_t>(g.lda, 1));
  const int ldb = static_cast<int>(std::max<int64_t>(g.ldb, 1));
  const int ldc = static_cast<int>(std::max<int64_t>(g.ldc, 1));
  for (int64_t i = 0; i < g.batch; ++i) {
    if (g.dtype == DType::Float32) {
      cblas_sgemm(kRowMajor, ta, tb, m, n, k, static_cast<float>(g.alpha),
                  static_cast<const float*>(g.a) + i * g.stride_a, lda,
                  static_cast<const float*>(g.b) + i * g.stride_b, ldb, static_cast<float>(g.beta),
                  static_cast<float*>(g.c) + i * g.stride_c, ldc);
    } else {
      TG_ASSERT(g.dtype == DType::Float64, "gemm on ", dtype_name(g.dtype));
      cblas_dgemm(kRowMajor, ta, tb, m, n, k, g.alpha,
                  static_cast<const double*>(g.a) + i * g.stride_a, lda,
                  static_cast<const double*>(g.b) + i * g.stride_b, ldb, g.beta,
                  static_cast<double*>(g.c) + i * g.stride_c, ldc);
    }
  }
}

}  // namespace tg::kernels::cpu
