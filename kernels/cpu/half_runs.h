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

}  // namespace tg::kernels::cpu
