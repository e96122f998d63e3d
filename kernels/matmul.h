// General matrix product, row-major and batched:
//   C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i],   i < batch
// with op(X) = X or Xᵀ, op(A[i]) of shape (m, k), op(B[i]) of (k, n), C[i] of (m, n).
// On the CPU a bias (n values of C's dtype, with beta = 0 and float32 or float64) may come
// along: C[i] = alpha · op(A[i]) · op(B[i]) + bias in every row, the same bits as C first
// filled with the bias in every row and the product added with beta = 1 (Linear's forward:
// Note [fused linear] in core/ops/matmul.cpp). The CUDA launcher takes none.
// A batch stride of 0 reuses one matrix for every batch entry. oneDNN (float32, bfloat16
// operands) and OpenBLAS (float64) on the CPU, cuBLAS on the GPU (TF32 tensor cores only
// when allowed; bfloat16 and float16 operands on tensor cores).
//
// Front-end: core/ops/matmul.cpp. Tests: the op table, tests/ops/op_cases_math.cpp
//   (gradcheck: tests/ops/gradcheck_test.cpp; CUDA vs CPU:
//   tests/cuda/op_parity_test.cpp), tests/golden/golden_test.cpp,
//   tests/unit/kernel_args_test.cpp
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <utility>

#include "common.h"

namespace tg::kernels {

struct MatmulArgs {
  // float32 or float64: A, B and C of it; or a half dtype (autocast, Note [autocast] in
  // core/autocast.h): A and B of it, C float32, the products accumulated in float32.
  DType dtype;
  bool trans_a, trans_b;
  int64_t m, n, k;
  int64_t batch;
  const void* a;
  int64_t lda, stride_a;  // leading dimension (row stride as stored), batch stride
  const void* b;
  int64_t ldb, stride_b;
  void* c;
  int64_t ldc, stride_c;
  double alpha, beta;
  bool allow_tf32;
  const void* bias = nullptr;  // (n,) or null: CPU only, with beta = 0
};

// Both launchers check first: BLAS and cuBLAS take int sizes, leading dimensions and (cuBLAS)
// batch count, so a larger value is refused, by name, before any is narrowed.
inline void check_matmul_args(const MatmulArgs& g) {
  const std::pair<const char*, int64_t> fields[] = {
      {"m", g.m},     {"n", g.n},     {"k", g.k},        {"lda", g.lda},
      {"ldb", g.ldb}, {"ldc", g.ldc}, {"batch", g.batch}};
  for (const auto& [name, value] : fields) {
    TG_CHECK(value >= 0 && value <= INT_MAX, "matmul: ", name, " = ", value,
             " is outside what BLAS takes (0 to ", INT_MAX, ")");
  }
}

namespace cpu {
void matmul(const MatmulArgs& args);
// Which libraries and ISA the CPU products run on (Note [cpu matmul backend]).
std::string matmul_backend_description();
}  // namespace cpu
namespace cuda {
void matmul(const MatmulArgs& args, void* stream, void* cublas_handle);
}

}  // namespace tg::kernels
