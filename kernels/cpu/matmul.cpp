// CPU launcher of the matrix product (kernels/matmul.h): oneDNN's sgemm for float32 when the
// build has it (x·Wᵀ by blocks on its matmul primitive: Note [float32 matmul blocks]),
// OpenBLAS's CBLAS otherwise and for float64; one call per batch entry (each library threads a
// call itself, with OpenMP).
#include "../matmul.h"

#include <omp.h>

#include <algorithm>
#include <string>
#include <vector>

#include "half_runs.h"
#include "matmul_onednn.h"
#include "matmul_small.h"
#include "matmul_sparse.h"

#if TG_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

// The CBLAS entry points used, declared here (standard CBLAS ABI) rather than through a
// cblas.h whose location differs between distributions; and OpenBLAS's own report of the
// kernels it chose.
extern "C" {
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                 const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);
void cblas_dgemm(int order, int trans_a, int trans_b, int m, int n, int k, double alpha,
                 const double* a, int lda, const double* b, int ldb, double beta, double* c,
                 int ldc);
char* openblas_get_corename(void);
char* openblas_get_config(void);
}

// Note [cpu matmul backend]
// Float32 products (every training step) go to oneDNN's sgemm (x·Wᵀ by blocks on its matmul
// primitive: Note [float32 matmul blocks]; a mostly-zero left operand by its nonzero entries:
// Note [sparse rows product]; products under 2^19 multiply-adds by our own register tiles:
// Note [small products]); float64 products (the gradient checks and
// references) to OpenBLAS, since oneDNN has no dgemm. Why not OpenBLAS for both: OpenBLAS 0.3.21
// (Debian 12) is built with DYNAMIC_ARCH and chooses its kernels from a table of CPU
// vendor/family/model numbers; a model newer than the table (seen on a VM with an AVX-512 CPU)
// falls back to its "Prescott" SSE3 kernels, 66 GFLOP/s for sgemm on 2 cores where the same call
// with OPENBLAS_CORETYPE=SkylakeX runs at 320. oneDNN reads the CPUID feature bits (AVX2, AVX-512,
// ...) and JIT-compiles for what is there, so no model table and no environment variable is
// involved; it is also what PyTorch uses on the CPU for convolutions. Measured on a 2-core AMD EPYC
// (Zen 4, which OpenBLAS does detect, as Cooperlake): oneDNN's sgemm was 1.07-1.35x OpenBLAS's at
// the MLP's shapes (128x512x784: 213 vs 182 GFLOP/s). Both libraries use OpenMP, so both follow
// omp_set_num_threads. matmul_backend_description() says which is used and on what ISA.

namespace tg::kernels::cpu {

namespace {

constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
// (BLAS and oneDNN reject a leading dimension below 1 even when k = 0: hence the max.)

#if TG_WITH_ONEDNN
void sgemm(const MatmulArgs& g, const float* a, const float* b, float* c) {
  const dnnl_status_t status = dnnl_sgemm(
      g.trans_a ? 'T' : 'N', g.trans_b ? 'T' : 'N', g.m, g.n, g.k, static_cast<float>(g.alpha), a,
      std::max<int64_t>(g.lda, 1), b, std::max<int64_t>(g.ldb, 1), static_cast<float>(g.beta), c,
      std::max<int64_t>(g.ldc, 1));
  TG_CHECK(status == dnnl_success, "gemm: oneDNN's sgemm failed with status ",
           static_cast<int>(status), " on m = ", g.m, ", n = ", g.n, ", k = ", g.k);
}

const char* isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse4.1";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}
#else
void sgemm(const MatmulArgs& g, const float* a, const float* b, float* c) {
  cblas_sgemm(kRowMajor, g.trans_a ? kTrans : kNoTrans, g.trans_b ? kTrans : kNoTrans,
              static_cast<int>(g.m), static_cast<int>(g.n), static_cast<int>(g.k),
              static_cast<float>(g.alpha), a, static_cast<int>(std::max<int64_t>(g.lda, 1)), b,
              static_cast<int>(std::max<int64_t>(g.ldb, 1)), static_cast<float>(g.beta), c,
              static_cast<int>(std::max<int64_t>(g.ldc, 1)));
}
#endif

void dgemm(const MatmulArgs& g, const double* a, const double* b, double* c) {
  cblas_dgemm(kRowMajor, g.trans_a ? kTrans : kNoTrans, g.trans_b ? kTrans : kNoTrans,
              static_cast<int>(g.m), static_cast<int>(g.n), static_cast<int>(g.k), g.alpha, a,
              static_cast<int>(std::max<int64_t>(g.lda, 1)), b,
              static_cast<int>(std::max<int64_t>(g.ldb, 1)), g.beta, c,
              static_cast<int>(std::max<int64_t>(g.ldc, 1)));
}

// Half operands where oneDNN has no kernel (Note [autocast]): each batch entry's operands
// widened, then the float32 product: the same products of the rounded values.
void widened_product(const MatmulArgs& g) {
  thread_local std::vector<float> a, b;
  MatmulArgs f = g;
  f.dtype = DType::Float32;
  const int64_t a_rows = g.trans_a ? g.k : g.m, a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_rows = g.trans_b ? g.n : g.k, b_cols = g.trans_b ? g.k : g.n;
  f.lda = a_cols;
  f.ldb = b_cols;
  a.resize(static_cast<size_t>(a_rows * a_cols));
  b.resize(static_cast<size_t>(b_rows * b_cols));
  const size_t size = element_size(g.dtype);
  for (int64_t i = 0; i < g.batch; ++i) {
    widen_rows(g.dtype, static_cast<const char*>(g.a) + i * g.stride_a * size, a_rows, a_cols,
               g.lda, a.data());
    widen_rows(g.dtype, static_cast<const char*>(g.b) + i * g.stride_b * size, b_rows, b_cols,
               g.ldb, b.data());
    sgemm(f, a.data(), b.data(), static_cast<float*>(g.c) + i * g.stride_c);
  }
}

}  // namespace

// C's rows, each set to the bias (in every batch entry).
template <typename T>
void fill_rows_with_bias(const MatmulArgs& g) {
  const T* bias = static_cast<const T*>(g.bias);
  const int64_t rows = g.batch * g.m;
#pragma omp parallel for schedule(static) if (rows * g.n > (int64_t{1} << 15))
  for (int64_t r = 0; r < rows; ++r) {
    T* row = static_cast<T*>(g.c) + (r / g.m) * g.stride_c + (r % g.m) * g.ldc;
    std::copy(bias, bias + g.n, row);
  }
}

void matmul(const MatmulArgs& g) {
  check_matmul_args(g);
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  if (g.bias != nullptr) {
    TG_CHECK(g.beta == 0.0 && (g.dtype == DType::Float32 || g.dtype == DType::Float64),
             "matmul: a bias comes with beta = 0 and float32 or float64 (kernels/matmul.h)");
    // oneDNN's primitive adds it to the product itself (the float32 x·Wᵀ); otherwise C starts
    // as the bias and the product is added to it.
    if (g.k > 0 && onednn::matmul_float(g)) return;
    if (g.dtype == DType::Float32) {
      fill_rows_with_bias<float>(g);
    } else {
      fill_rows_with_bias<double>(g);
    }
    MatmulArgs rest = g;
    rest.bias = nullptr;
    rest.beta = 1.0;
    if (g.k > 0) matmul(rest);
    return;
  }
  if (is_half(g.dtype)) {
    if (!onednn::matmul_half(g)) widened_product(g);  // float16: oneDNN 2.6 declines
    return;
  }
  if (small_product::matmul(g)) return;  // Note [small products]
  if (sparse_rows::matmul(g)) return;    // Note [sparse rows product]
  if (onednn::matmul_float(g)) return;
  for (int64_t i = 0; i < g.batch; ++i) {
    if (g.dtype == DType::Float32) {
      sgemm(g, static_cast<const float*>(g.a) + i * g.stride_a,
            static_cast<const float*>(g.b) + i * g.stride_b,
            static_cast<float*>(g.c) + i * g.stride_c);
    } else {
      TG_ASSERT(g.dtype == DType::Float64, "gemm on ", dtype_name(g.dtype));
      dgemm(g, static_cast<const double*>(g.a) + i * g.stride_a,
            static_cast<const double*>(g.b) + i * g.stride_b,
            static_cast<double*>(g.c) + i * g.stride_c);
    }
  }
}

std::string matmul_backend_description() {
  std::string text;
#if TG_WITH_ONEDNN
  const dnnl_version_t* v = dnnl_version();
  text = "float32 GEMM: oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " (ISA " + isa_name(dnnl_get_effective_cpu_isa()) +
         "; x*W^T by blocks of the result on its matmul primitive, one thread each; the rest "
         "on its sgemm); "
         "float64 GEMM: ";
#else
  text = "float32 and float64 GEMM: ";
#endif
  text += std::string(openblas_get_config()) + " (kernels for " + openblas_get_corename() + "); " +
          std::to_string(omp_get_max_threads()) + " OpenMP threads";
  if (small_product::available()) {
    text += "; float32 products under " + std::to_string(small_product::kMaxWork) +
            " multiply-adds: by register tiles (AVX-512F)";
  }
  if (sparse_rows::available()) {
    text += "; float32 products whose left operand is at most " +
            std::to_string(static_cast<int>(sparse_rows::kMaxDensity * 100)) +
            "% nonzero: by its rows' nonzero entries (AVX-512F)";
  }
  return text;
}

}  // namespace tg::kernels::cpu
