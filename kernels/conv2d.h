// 2-D convolution (cross-correlation, as in PyTorch) of NCHW tensors with groups, stride,
// padding and dilation, and an optional bias: forward, and the two backward products (data,
// and filter with the bias's gradient).
//   CPU: oneDNN's direct convolution (float32, bfloat16), else im2col + GEMM per block of
//        samples (Notes [onednn conv2d], [cpu conv2d]); col2im in gather form.
//   GPU: cuDNN, with deterministic algorithms preferred and the workspace from the
//        stream-ordered pool.
//
// Front-end: core/ops/conv2d.cpp. Tests: the op table, tests/ops/op_cases_nn.cpp
//   (gradcheck: tests/ops/gradcheck_test.cpp; CUDA vs CPU:
//   tests/cuda/op_parity_test.cpp), tests/golden/golden_test.cpp,
//   tests/unit/kernel_args_test.cpp
#pragma once

#include <climits>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "common.h"

namespace tg::kernels {

struct Conv2dGeometry {
  int64_t n, c_in, h, w;  // input (N, C_in, H, W)
  int64_t c_out, kh, kw;  // weight (C_out, C_in / groups, kh, kw)
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
  int64_t out_h, out_w;  // output (N, C_out, out_h, out_w)
};

struct Conv2dArgs {
  DType dtype;  // float32 or float64
  Conv2dGeometry g;
  const void* x;         // (N, C_in, H, W) contiguous: forward, backward_filter
  const void* weight;    // (C_out, C_in/groups, kh, kw) contiguous: forward, backward_data
  const void* grad_out;  // (N, C_out, out_h, out_w) contiguous: backward passes
  void* out;             // forward: y; backward_data: grad x; backward_filter: grad weight
  bool allow_tf32;
  // Note [conv2d bias]: the bias goes into the passes, not through a broadcasting add after
  // them: the forward adds it where the product is written (oneDNN's bias argument), and the
  // filter pass sums its gradient from the output gradient it reads anyway, per block of the
  // batch like the filter's (so with the same bits on any thread count).
  const void* bias = nullptr;  // forward: (C_out,) of the result's dtype (float32 for half
                               // operands), added to every output; or null
  void* grad_bias = nullptr;   // backward_filter: (C_out,) Σ of grad_out over N, H and W; or
                               // null. float32 and float64 operands only (for half operands the
                               // caller sums its float32 gradient itself).
  // CPU only (Note [conv block] in kernels/batch_norm.h): y (the forward's out) and grad_out
  // in oneDNN's blocked layout nChw16c instead of NCHW. Only for what conv2d_blocked_takes
  // accepts. With it, x_blocked: x (the forward's and the filter pass's) in nChw16c too (C_in a
  // multiple of 16; conv2d_blocked_input makes it).
  bool blocked = false;
  bool x_blocked = false;
};

// The CPU lowers a convolution to GEMMs through the column matrix of one sample (im2col):
// (C_in·kh·kw, out_h·out_w); entry (row, col) is the input pixel under kernel tap
// row = (c, i, j) at output position col, or 0 in padding. col2im is its adjoint.

// Both launchers check first: cuDNN's 4-D descriptors and BLAS take int sizes and strides,
// so every geometry field and each sample's element count (the batch stride of x and y)
// must fit an int; a larger value is refused, by name, before any is narrowed.
inline void check_conv2d_geometry(const Conv2dGeometry& g) {
  const std::pair<const char*, int64_t> fields[] = {{"N", g.n},
                                                    {"C_in", g.c_in},
                                                    {"H", g.h},
                                                    {"W", g.w},
                                                    {"C_out", g.c_out},
                                                    {"kh", g.kh},
                                                    {"kw", g.kw},
                                                    {"stride_h", g.stride_h},
                                                    {"stride_w", g.stride_w},
                                                    {"pad_h", g.pad_h},
                                                    {"pad_w", g.pad_w},
                                                    {"dilation_h", g.dil_h},
                                                    {"dilation_w", g.dil_w},
                                                    {"groups", g.groups},
                                                    {"out_h", g.out_h},
                                                    {"out_w", g.out_w}};
  for (const auto& [name, value] : fields) {
    TG_CHECK(value >= 0 && value <= INT_MAX, "conv2d: ", name, " = ", value, " is outside 0 to ",
             INT_MAX);
  }
  TG_CHECK(g.c_in * g.h * g.w <= INT_MAX && g.c_out * g.out_h * g.out_w <= INT_MAX,
           "conv2d: one sample of the input (", g.c_in, "x", g.h, "x", g.w, ") or output (",
           g.c_out, "x", g.out_h, "x", g.out_w, ") has more than ", INT_MAX, " elements");
}

namespace cpu {
void conv2d_forward(const Conv2dArgs& args);
void conv2d_backward_data(const Conv2dArgs& args);
void conv2d_backward_filter(const Conv2dArgs& args);
// Whether the three passes take `args` with `blocked` set (float32, C_out a multiple of 16,
// oneDNN built in and taking the geometry, each pass and the filter's blocks of the batch).
bool conv2d_blocked_takes(const Conv2dArgs& args);
// args.x (NCHW, float32, C_in a multiple of 16) into `out` in nChw16c, for x_blocked: the
// reorder the forward would make anyway, kept for the filter pass's blocks.
void conv2d_blocked_input(const Conv2dArgs& args, void* out);
// A conv block's data and filter gradients (Note [conv block], kernels/batch_norm.h), per
// block of the batch (the filter's: Note [onednn filter gradient]), each block on one thread:
// write_grad_out(first, count, grad_out) first writes that block's output gradient (blocked)
// into grad_out, the thread's buffer of `count` samples (64-byte aligned), which both passes
// then read while it is in cache; the whole batch's output gradient is never stored, and the
// args' grad_out is not read. A pass not asked for is null. The bits of conv2d_backward_data
// and conv2d_backward_filter.
void conv2d_backward_blocks(
    const Conv2dArgs* data, const Conv2dArgs* filter,
    const std::function<void(int64_t first, int64_t count, void* grad_out)>& write_grad_out);
// Which implementation runs which pass (cpu_backend_description reports it).
std::string conv2d_backend_description();
}  // namespace cpu
// `scratch` gives cuDNN's workspace (Note [scratch memory], common.h).
namespace cuda {
// A cuDNN handle as the launchers take it: the cudnnHandle_t, its device, and its
// generation (DeviceContext::cudnn_generation), which keys the plans made with it.
struct CudnnHandle {
  void* handle;
  int device;
  uint64_t generation;
};
void conv2d_forward(const Conv2dArgs& args, void* stream, const CudnnHandle& cudnn,
                    const ScratchAllocator& scratch);
void conv2d_backward_data(const Conv2dArgs& args, void* stream, const CudnnHandle& cudnn,
                          const ScratchAllocator& scratch);
void conv2d_backward_filter(const Conv2dArgs& args, void* stream, const CudnnHandle& cudnn,
                            const ScratchAllocator& scratch);
// Plans held by the cache (Note [algorithm cache]); at most conv2d_plan_capacity().
size_t conv2d_plan_count();
size_t conv2d_plan_capacity();
}  // namespace cuda

}  // namespace tg::kernels
