// Float32 products too small for oneDNN's sgemm to be worth calling (Note [small products] in
// kernels/cpu/matmul_small.cpp): a Linear's last layer in the MNIST models (10 outputs), summed
// by register tiles (shared among the threads from 2^16 multiply-adds up).
// kernels/cpu/matmul.cpp asks here first. Tests:
// tests/unit/matmul_small_test.cpp.
#pragma once

#include <cstdint>

#include "../matmul.h"

namespace tg::kernels::cpu::small_product {

// The most multiply-adds (m·n·k) a product may have to take this path (below it), and the
// fewest columns of C (one register's; a narrower C leaves most lanes idle, where sgemm's
// matrix-vector kernels do better).
constexpr int64_t kMaxWork = int64_t(1) << 19;
constexpr int64_t kMinColumns = 16;

// Whether this CPU runs the path (AVX-512F).
bool available();

// Runs C = alpha·op(A)·B + beta·C and returns true when: float32, B not transposed, one batch
// entry, alpha not 0, k not 0, n at least kMinColumns, m·n·k under kMaxWork and available().
// Otherwise returns false having written nothing, and the caller runs the product elsewhere.
bool matmul(const MatmulArgs& args);

}  // namespace tg::kernels::cpu::small_product
