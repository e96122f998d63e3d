// Runs of contiguous float <-> half conversions on the CPU: what to(dtype), autocast's operand
// copies and the float32 fallbacks of half products (kernels/cpu/matmul.cpp, conv2d.cpp)
// spend their time in. float16 goes 8 lanes at a time through x86's F16C instructions where
// the CPU has them: the same bits as kernels/half.h's element functions, which
// tests/unit/half_test.cpp checks against F16C on every float16 value and 16.7 million floats
// (and tests/unit/half_dtype_test.cpp through to(dtype)); elsewhere, and for bfloat16, the
// element functions in a loop the compiler vectorises.
#pragma once

#include <cstdint>

#include "../half.h"

namespace tg::kernels::cpu {

void half_run_from_float(const float* src, float16* dst, int64_t n);
void half_run_from_float(const float* src, bfloat16* dst, int64_t n);
void half_run_to_float(const float16* src, float* dst, int64_t n);
void half_run_to_float(const bfloat16* src, float* dst, int64_t n);

// A half matrix of `rows` rows, each `cols` long and `ld` apart, of `dtype` (bfloat16 or
// float16), widened exactly into `dst` packed (rows x cols), the rows over the OpenMP threads
// when there are many elements: the float32 fallbacks of half products take their operands so.
void widen_rows(DType dtype, const void* src, int64_t rows, int64_t cols, int64_t ld, float* dst);

}  // namespace tg::kernels::cpu
