// What the CPU conv2d launchers share (kernels/cpu/conv2d.cpp: our im2col + GEMM lowering and
// the dispatch; kernels/cpu/conv2d_blocks.cpp: oneDNN's filter gradient by blocks of the batch
// and the conv block's backward by blocks): the groups' dimensions and the filter gradient's
// blocks and partials (Note [cpu conv2d], Note [onednn filter gradient]). Included by those
// two only.
#pragma once

#include <cstdint>
#include <vector>

#include "../conv2d.h"
#include "conv2d_onednn.h"

namespace tg::kernels::cpu::conv2d_parts {

struct GroupDims {
  int64_t k;   // C_in/groups · kh · kw: rows of a group's columns
  int64_t l;   // out_h · out_w
  int64_t oc;  // C_out / groups
};

inline GroupDims group_dims(const Conv2dGeometry& g) {
  return {g.c_in / g.groups * g.kh * g.kw, g.out_h * g.out_w, g.c_out / g.groups};
}

// The batch cut into `count` blocks of `size` samples (the last may have fewer).
struct Blocks {
  int64_t size;   // samples per block (B)
  int64_t count;  // blocks in the batch
};

// The batch of n samples in blocks of onednn::kBlockSamples (the oneDNN passes run per block).
inline Blocks onednn_blocks(int64_t n) {
  return {onednn::kBlockSamples, (n + onednn::kBlockSamples - 1) / onednn::kBlockSamples};
}

// A block's partial: the filter's gradient (filter_size), then the bias's when asked (C_out).
struct PartialLayout {
  int64_t filter_size, size;
};
inline PartialLayout partial_layout(const Conv2dArgs& a, const GroupDims& d) {
  const int64_t filter_size = a.g.c_out * d.k;
  return {filter_size, filter_size + (a.grad_bias != nullptr ? a.g.c_out : 0)};
}

// The blocks' partials added in block order into the filter's gradient (at grad_w) and the
// bias's. grad_w may be the first partial itself: each element is read before it is written.
template <typename T>
void sum_partials(const Conv2dArgs& a, const Blocks& blocks, const PartialLayout& layout,
                  T* partials, T* grad_w) {
  T* grad_b = static_cast<T*>(a.grad_bias);
#pragma omp parallel for schedule(static) if (layout.size * blocks.count > (1 << 15))
  for (int64_t i = 0; i < layout.size; ++i) {
    T total = partials[i];
    for (int64_t c = 1; c < blocks.count; ++c) total += partials[c * layout.size + i];
    if (i < layout.filter_size) {
      grad_w[i] = total;
    } else {
      grad_b[i - layout.filter_size] = total;
    }
  }
}

// A thread's buffer of at least `size` Ts, 64-byte aligned (oneDNN's Winograd kernels load and
// store with aligned moves: Note [winograd conv2d]); it only grows. One per Use, so that
// buffers live at the same time on one thread (the partials and a block's output gradient)
// never share storage.
template <typename T, typename Use>
T* aligned_thread_buffer(int64_t size) {
  constexpr size_t kSlack = 64 / sizeof(T);
  thread_local std::vector<T> storage;
  if (storage.size() < static_cast<size_t>(size) + kSlack)
    storage.resize(static_cast<size_t>(size) + kSlack);
  const uintptr_t at = reinterpret_cast<uintptr_t>(storage.data());
  return storage.data() + (64 - at % 64) % 64 / sizeof(T);
}

// The blocks' partials (the Winograd filter gradient writes its partial in place only when
// aligned). Every block writes all of its partial (a fresh vector was zeroed on the calling
// thread alone, every pass: 2.4 MB for the MNIST CNN's third layer).
struct PartialsUse {};
template <typename T>
T* partials_buffer(int64_t size) {
  return aligned_thread_buffer<T, PartialsUse>(size);
}

// x blocked only with y blocked (the conv block's passes).
inline void check_layouts(const Conv2dArgs& args) {
  TG_CHECK(!args.x_blocked || args.blocked,
           "conv2d: a blocked x comes with a blocked y (Note [conv block])");
}

// oneDNN's filter gradient of the whole batch, per block of onednn::kBlockSamples samples (each on
// one thread), into args.out and args.grad_bias. Only for what conv2d_filter_takes accepts for
// a block.
void onednn_filter_gradient(const Conv2dArgs& args);

}  // namespace tg::kernels::cpu::conv2d_parts
