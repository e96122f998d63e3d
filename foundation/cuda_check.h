// TG_CUDA_CHECK(expr): one check over cudaError_t, cublasStatus_t and cudnnStatus_t, for
// every CUDA, cuBLAS and cuDNN call of the library (core's CUDA backend and the kernels'
// launchers alike); a failure throws tg::Error naming the call and the library's words.
// Only for files compiled with the CUDA toolkit.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "error.h"

namespace tg::detail {

inline bool status_ok(cudaError_t status) { return status == cudaSuccess; }
inline const char* status_text(cudaError_t status) { return cudaGetErrorString(status); }
inline bool status_ok(cublasStatus_t status) { return status == CUBLAS_STATUS_SUCCESS; }
inline const char* status_text(cublasStatus_t status) { return cublasGetStatusString(status); }
inline bool status_ok(cudnnStatus_t status) { return status == CUDNN_STATUS_SUCCESS; }
inline const char* status_text(cudnnStatus_t status) { return cudnnGetErrorString(status); }

}  // namespace tg::detail

#define TG_CUDA_CHECK(expr)                                                              \
  do {                                                                                   \
    const auto tg_status_ = (expr);                                                      \
    if (!::tg::detail::status_ok(tg_status_))                                            \
      ::tg::detail::throw_error("CUDA failure", __FILE__, __LINE__, #expr, " returned ", \
                                ::tg::detail::status_text(tg_status_));                  \
  } while (0)
