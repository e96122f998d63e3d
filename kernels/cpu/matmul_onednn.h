// Matrix products with half operands (autocast, Note [autocast] in core/autocast.h) through
// oneDNN's matmul primitive: bfloat16 A and B, float32 C, float32 accumulation; on a CPU with
// AMX or AVX512-BF16 it runs their bfloat16 dot products. Returns false, having done nothing,
// when oneDNN has no kernel for the case (float16 in oneDNN 2.6, a build without oneDNN): the
// caller (kernels/cpu/matmul.cpp) then widens the operands and runs the float32 product.
#pragma once

#include "../matmul.h"

namespace tg::kernels::cpu::onednn {

#if TG_WITH_ONEDNN
bool matmul_half(const MatmulArgs& args);
// Float32 x·Wᵀ by blocks of C, each on one thread (Note [float32 matmul blocks]); false,
// having done nothing, for any other product or what it declines (the caller runs sgemm).
bool matmul_float(const MatmulArgs& args);
#else
inline bool matmul_half(const MatmulArgs&) { return false; }
inline bool matmul_float(const MatmulArgs&) { return false; }
#endif

}  // namespace tg::kernels::cpu::onednn
