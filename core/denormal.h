// Flushing subnormal floats to zero on the CPU (torch.set_flush_denormal): with it on, results
// and inputs below the smallest normal float become zero instead of subnormal numbers, which
// the CPU computes with slow microcode assists. Off by default, as in PyTorch: it changes
// results (a subnormal gradient or moment becomes 0). Measured (bench/NOTES.md): after two
// MLP epochs Adam's second moments and some weights are subnormal and a CPU step is 12-15%
// slower than with flushing on.
#pragma once

#include "../foundation/config.h"

TG_API_BEGIN

namespace tg {

// Sets or clears flush-to-zero and denormals-are-zero (x86-64's MXCSR) on the calling thread
// and on every thread of its OpenMP team; threads started later inherit the calling thread's
// setting. Returns false, changing nothing, where the CPU has no such mode (not x86-64).
bool set_flush_denormal(bool on);
// Whether the calling thread flushes.
bool flush_denormal();

}  // namespace tg

TG_API_END
