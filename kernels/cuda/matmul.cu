// CUDA launcher of the matrix product (kernels/matmul.h); the CPU twin is kernels/cpu/matmul.cpp.
// cuBLAS is column-major: a row-major matrix read column-major is its transpose, so
// C = op(A)·op(B) (row-major) is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ (column-major), i.e. with
// the operands swapped and the same transpose flags.
#include <algorithm>

#include "../matmul.h"
#include "launch.h"

namespace tg::kernels::cuda {

void matmul(const MatmulArgs& g, void* stream, void* cublas_handle) {
  check_matmul_args(g);
  TG_CHECK(g.bias == nullptr, "matmul: the CUDA launcher takes no bias (kernels/matmul.h)");
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  auto handle = static_cast<cublasHandle_t>(cublas_handle);
  TG_CUDA_CHECK(cublasSetStream(handle, as_stream(stream)));
  const cublasOperation_t op_b = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int lda = static_cast<int>(std::max<int64_t>(g.lda, 1));
  const int ldb = static_cast<int>(std::max<int64_t>(g.ldb, 1));
  const int ldc = static_cast<int>(std::max<int64_t>(g.ldc, 1));
  const int m = static_cast<int>(g.m), n = static_cast<int>(g.n), k = static_cast<int>(g.k);
  const int batch = static_cast<int>(g.batch);
  if (is_half(g.dtype)) {
    // Autocast (Note [autocast]): half A and B on the tensor cores, float32 C and accumulation.
    const cudaDataType_t type = g.dtype == DType::BFloat16 ? CUDA_R_16BF : CUDA_R_16F;
    const float alpha = static_cast<float>(g.alpha), beta = static_cast<float>(g.beta);
    TG_CUDA_CHECK(cublasGemmStridedBatchedEx(
        handle, op_b, op_a, n, m, k, &alpha, g.b, type, ldb, g.stride_b, g.a, type, lda, g.stride_a,
        &beta, g.c, CUDA_R_32F, ldc, g.stride_c, batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  } else if (g.dtype == DType::Float32) {
    const float alpha = static_cast<float>(g.alpha), beta = static_cast<float>(g.beta);
    const cublasComputeType_t compute =
        g.allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    TG_CUDA_CHECK(cublasGemmStridedBatchedEx(
        handle, op_b, op_a, n, m, k, &alpha, g.b, CUDA_R_32F, ldb, g.stride_b, g.a, CUDA_R_32F, lda,
        g.stride_a, &beta, g.c, CUDA_R_32F, ldc, g.stride_c, batch, compute, CUBLAS_GEMM_DEFAULT));
  } else {
    TG_ASSERT(g.dtype == DType::Float64, "gemm on ", dtype_name(g.dtype));
    const double alpha = g.alpha, beta = g.beta;
    TG_CUDA_CHECK(cublasGemmStridedBatchedEx(handle, op_b, op_a, n, m, k, &alpha, g.b, CUDA_R_64F,
                                             ldb, g.stride_b, g.a, CUDA_R_64F, lda, g.stride_a,
                                             &beta, g.c, CUDA_R_64F, ldc, g.stride_c, batch,
                                             CUBLAS_COMPUTE_64F, CUBLAS_GEMM_DEFAULT));
  }
}

}  // namespace tg::kernels::cuda
