// Float32 products whose left operand is mostly zeros, computed from the nonzero entries of its
// rows (Note [sparse rows product] in kernels/cpu/matmul_sparse.cpp): the gradients of a layer
// behind a ReLU and a dropout, in a Linear's backward. kernels/cpu/matmul.cpp asks here first
// and runs the dense product when this declines. Tests: tests/unit/matmul_sparse_test.cpp.
#pragma once

#include "../matmul.h"

namespace tg::kernels::cpu::sparse_rows {

// The largest share of nonzero entries in op(A) that takes this path, and the least m·n·k.
constexpr double kMaxDensity = 0.3;
constexpr int64_t kMinWork = int64_t(1) << 20;

// Whether this CPU runs the path (AVX-512F).
bool available();

// Runs C = alpha·op(A)·B + beta·C and returns true when: float32, B not transposed, one batch
// entry, alpha not 0, m·n·k of at least kMinWork, at most kMaxDensity of op(A)'s entries
// nonzero, every element of B finite (so a skipped 0·B is the 0 the dense product adds) and
// available(). Otherwise returns false having written nothing, and the caller runs the dense
// product.
bool matmul(const MatmulArgs& args);

}  // namespace tg::kernels::cpu::sparse_rows
