// Strided copy with dtype conversion: dst[i] = convert(src[i]) for every element i of a
// tensor, each side with its own strides. contiguous(), to(dtype) and copy_() all use it.
//
// Front-end: core/tensor_copy.cpp. Tests: tests/unit/tensor_copy_test.cpp,
//   tests/cuda/copy_parity_test.cpp
#pragma once

#include <cstdint>

#include "common.h"

namespace tg::kernels {

struct CopyArgs {
  const void* src;  // first element of the source view
  DType src_dtype;
  void* dst;  // first element of the destination view
  DType dst_dtype;
  int64_t numel;
  int ndim;                       // <= kMaxDims
  int64_t sizes[kMaxDims];        // shared by both sides
  int64_t src_strides[kMaxDims];  // elements
  int64_t dst_strides[kMaxDims];  // elements
};

namespace cpu {
void copy(const CopyArgs& args);
}
namespace cuda {
void copy(const CopyArgs& args, void* stream);
}

}  // namespace tg::kernels
