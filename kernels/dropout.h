// Dropout (Srivastava et al., JMLR 2014) with inverted scaling: y = keep ? x / (1 - p) : 0.
//
// Note [dropout RNG]
// Element i is kept when the 24-bit uniform from Philox(seed, offset) word i
// (Note [random streams], kernels/philox.h) is >= p. The mask is never stored: backward
// regenerates it from the same (seed, offset), which costs a few integer operations per
// element instead of reading 1 bit (or 4 bytes) per element, and leaves nothing to keep
// alive between the passes. Forward and backward are therefore the same kernel, applied to
// x and to the incoming gradient. p = 0 keeps everything (scale 1, an exact identity),
// p = 1 drops everything.
//
// Note [relu + dropout]
// A ReLU directly followed by a Dropout (the MNIST MLP's hidden layers, the CNN's classifier)
// runs as one op, relu_dropout (Sequential picks it: Note [fused neighbours]): the forward
// writes dropout(relu(x)) in one pass, from the same draws; the backward needs no draws at
// all. Unfused, it is keep ? g·scale : 0 (dropout's) gated by x > 0 (the ReLU's); and the
// forward's output y = keep ? relu(x)·scale : 0 is > 0 exactly when the element was kept
// and x > 0 (scale >= 1; a NaN x gives a NaN y, which is not > 0, as NaN > 0 is false for the
// ReLU's gate; p = 1 drops everything either way). So the backward is
// y > 0 ? g·scale : 0 over the kept y, the same bits as the two backwards, with one pass
// and no Philox. The CPU only; CUDA runs the two ops.
//
// Front-end: core/ops/dropout.cpp. Tests: the op table, tests/ops/op_cases_nn.cpp
//   (gradcheck: tests/ops/gradcheck_test.cpp; CUDA vs CPU:
//   tests/cuda/op_parity_test.cpp), tests/unit/training_kernels_test.cpp (rates),
//   tests/cuda/training_kernels_parity_test.cpp (masks bit for bit)
#pragma once

#include <cmath>
#include <cstdint>

#include "philox.h"
#include "random.h"

namespace tg::kernels {

// An element is kept when its 24-bit uniform u = (word >> 8)·2^-24 is >= p, i.e. when the
// integer word >> 8 is >= ceil(p·2^24) (scaling by a power of two is exact): one integer
// compare per element, computed from this threshold.
inline uint32_t dropout_threshold(double p) {
  return static_cast<uint32_t>(std::ceil(p * 16777216.0));
}

TG_HOST_DEVICE bool dropout_keep_word(uint32_t word, uint32_t threshold) {
  return (word >> 8) >= threshold;
}

// The keep test of element i of a draw (what a mask test or a reference needs).
TG_HOST_DEVICE bool dropout_keep(uint64_t seed, uint64_t offset, int64_t i, uint32_t threshold) {
  return dropout_keep_word(philox_block(seed, offset, static_cast<uint64_t>(i) / 4).v[i % 4],
                           threshold);
}

// One output element, from its Philox word.
template <typename T>
TG_HOST_DEVICE T dropout_element(uint32_t word, T x, uint32_t threshold, T scale) {
  return dropout_keep_word(word, threshold) ? x * scale : T(0);
}

struct DropoutArgs {
  DType dtype;
  int64_t n;
  const void* in;  // (n,) contiguous: x, or the gradient in backward
  void* out;       // (n,) contiguous
  uint64_t seed;
  uint64_t offset;
  uint32_t threshold;  // dropout_threshold(p)
  double scale;        // 1 / (1 - p), or 0 for p = 1
  // CUDA only: device memory whose value is added to `offset` (Note [random numbers in
  // CUDA graphs], core/cuda_graph.h); null otherwise.
  const uint64_t* offset_base;
  // CPU only (Note [relu + dropout]): relu: out = dropout(relu(in)); gate (n,): the backward
  // of that, out = gate > 0 ? in·scale : 0, with gate the forward's out (no draws).
  bool relu = false;
  const void* gate = nullptr;
};

namespace cpu {
void dropout(const DropoutArgs& args);
}
namespace cuda {
void dropout(const DropoutArgs& args, void* stream);
}

}  // namespace tg::kernels
