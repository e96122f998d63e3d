// oneDNN's float32 conv2d passes for the CPU launchers (Notes [onednn conv2d] and [winograd
// conv2d] in kernels/cpu/conv2d_onednn.cpp, [onednn filter gradient] in
// conv2d_onednn_filter.cpp). Each returns false, having done nothing, for a case it
// does not take (float64, a geometry oneDNN cannot express, a build without oneDNN); the
// caller then runs its own im2col + GEMM.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "../conv2d.h"

namespace tg::kernels::cpu::onednn {

// Samples in a block of the passes that run one thread per block: the filter gradient (Note
// [onednn filter gradient]) and the Winograd passes (Note [winograd conv2d]). Fixed, so their
// bits do not depend on the thread count; 16 measured fastest at batch 128 (6 and 32 slower).
constexpr int64_t kBlockSamples = 16;

// Whether the forward takes a float32 conv block's y in nChw16c (C_out a multiple of 16).
#if TG_WITH_ONEDNN
bool conv2d_blocked_takes(const Conv2dArgs& args);
void conv2d_blocked_input(const Conv2dArgs& args, void* out);
bool conv2d_forward(const Conv2dArgs& args);
bool conv2d_backward_data(const Conv2dArgs& args);
// Whether this CPU has oneDNN's Winograd convolution (Note [winograd conv2d]).
bool conv2d_winograd_available();
// The filter gradient per block of the batch (Note [onednn filter gradient]): whether oneDNN
// takes the geometry (with the bias's gradient when args.grad_bias is set), then one block's
// gradient (samples [first, first + count), their output gradient at grad_out, in args'
// layout) into grad_weight and, when not null, grad_bias, on the calling thread alone; called
// inside an OpenMP region, so it returns what went wrong ("" for nothing) instead of throwing.
// grad_weight is OIHW, or in `layout` when not null: oneDNN's own layout for the filter
// gradient of blocks of `count` samples (conv2d_filter_layout; null when oneDNN declines),
// which saves a reorder per block: the caller adds the blocks' partials in it, then
// reorders the sum into args.out once (conv2d_filter_unblock); it has
// conv2d_filter_floats floats.
bool conv2d_filter_takes(const Conv2dArgs& args);
struct FilterLayout;
std::shared_ptr<const FilterLayout> conv2d_filter_layout(const Conv2dArgs& args, int64_t count);
int64_t conv2d_filter_floats(const FilterLayout& layout);
void conv2d_filter_unblock(const Conv2dArgs& args, const FilterLayout& layout,
                           const float* blocked);
std::string conv2d_filter_block(const Conv2dArgs& args, int64_t first, int64_t count,
                                const void* grad_out, float* grad_weight, float* grad_bias,
                                const FilterLayout* layout);
// The data gradient of samples [first, first + count) alone (their output gradient at
// grad_out), on the calling thread, the same way ("" or what went wrong). Its sums never cross
// samples: the bits of the whole batch's. The weight is read from `weight` (when not null and in
// the layout the block's pass wants): args.weight reordered once for the blocks of `count` samples
// by conv2d_data_weight, or transformed once for our Winograd blocks (Note [winograd f43]; null
// when oneDNN declines).
struct PreparedWeight;
std::shared_ptr<const PreparedWeight> conv2d_data_weight(const Conv2dArgs& args, int64_t count);
std::string conv2d_data_block(const Conv2dArgs& args, int64_t first, int64_t count,
                              const void* grad_out, const PreparedWeight* weight);
#else
struct PreparedWeight;
inline bool conv2d_blocked_takes(const Conv2dArgs&) { return false; }
inline void conv2d_blocked_input(const Conv2dArgs&, void*) {
  TG_THROW("conv2d: a blocked input needs oneDNN, which this build has not");
}
inline bool conv2d_forward(const Conv2dArgs&) { return false; }
inline bool conv2d_winograd_available() { return false; }
inline bool conv2d_backward_data(const Conv2dArgs&) { return false; }
inline bool conv2d_filter_takes(const Conv2dArgs&) { return false; }
struct FilterLayout;
inline std::shared_ptr<const FilterLayout> conv2d_filter_layout(const Conv2dArgs&, int64_t) {
  return nullptr;
}
inline int64_t conv2d_filter_floats(const FilterLayout&) { return 0; }
inline void conv2d_filter_unblock(const Conv2dArgs&, const FilterLayout&, const float*) {}
inline std::string conv2d_filter_block(const Conv2dArgs&, int64_t, int64_t, const void*, float*,
                                       float*, const FilterLayout*) {
  return "";
}
inline std::shared_ptr<const PreparedWeight> conv2d_data_weight(const Conv2dArgs&, int64_t) {
  return nullptr;
}
inline std::string conv2d_data_block(const Conv2dArgs&, int64_t, int64_t, const void*,
                                     const PreparedWeight*) {
  return "conv2d: built without oneDNN";
}
#endif

}  // namespace tg::kernels::cpu::onednn
