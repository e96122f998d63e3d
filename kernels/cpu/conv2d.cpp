// CPU launchers of conv2d (kernels/conv2d.h): float32 passes through oneDNN when the build
// has it (Note [onednn conv2d]; the filter gradient per block of samples, Note [onednn filter
// gradient], in kernels/cpu/conv2d_blocks.cpp with the conv block's passes); otherwise, and for
// float64, im2col + GEMM over blocks of samples, the blocks over the OpenMP threads (Note [cpu
// conv2d]). Half operands (autocast, Note [autocast]): bfloat16 through oneDNN; what it does not
// take (float16, a build without oneDNN) is widened to float32 first, exactly, and runs as float32.
#include <omp.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../conv2d.h"
#include "../matmul.h"
#include "conv2d_first.h"
#include "conv2d_onednn.h"
#include "conv2d_parts.h"
#include "half_runs.h"
#include "im2col.h"

namespace tg::kernels::cpu {

namespace {

using namespace conv2d_columns;
using namespace conv2d_parts;

MatmulArgs product(DType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                   const void* a, int64_t lda, const void* b, int64_t ldb, void* c, int64_t ldc,
                   double beta) {
  return MatmulArgs{dtype, trans_a, trans_b, m, n,   k, 1,   a,    lda,  0,
                    b,     ldb,     0,       c, ldc, 0, 1.0, beta, false};
}

// Note [cpu conv2d]
// Our own lowering: float64, and every pass oneDNN declines (Notes [onednn conv2d], [onednn
// filter gradient]; oneDNN's filter gradient runs on blocks of its own size, 16 samples). The batch
// is cut into blocks of B samples (B set by the shape only: enough that the GEMM has B·out_h·out_w
// >= kBlockColumns columns, at most 16), and the blocks are spread over the OpenMP threads. A
// thread lowers its block with im2col into its own column buffer (K, B·L), samples side by side,
// and runs the block's GEMM per group on its own thread: oneDNN and OpenBLAS see they are inside a
// parallel region and do not spawn. So a small layer (L = 49 at 7x7) still multiplies wide
// matrices, and nothing waits at a barrier between samples. The output and output-gradient blocks
// are staged as (C_out, B·L) and copied to and from (B, C_out, L). The filter gradient sums over
// blocks: each block's product goes into its own partial, and the partials are added in block
// order, so with the blocks fixed by the shape the result has the same bits whatever the thread
// count.

constexpr int64_t kBlockColumns = 1024;

Blocks blocks_of(const Conv2dGeometry& g, const GroupDims& d) {
  const int64_t size =
      std::clamp<int64_t>((kBlockColumns + d.l - 1) / std::max<int64_t>(d.l, 1), 1, 16);
  return {size, (g.n + size - 1) / size};
}

// Per-thread buffers: the block's columns (groups·K, B·L) and a staging matrix (C_out, B·L).
// They live in thread-local vectors that only grow: OpenMP keeps its threads, so after the
// first step a convolution allocates nothing (fresh multi-megabyte buffers cost a page fault
// per 4 KiB and a memset, measured at 10-15% of a conv layer's time).
template <typename T>
struct BlockBuffers {
  BlockBuffers(const Conv2dGeometry& g, const GroupDims& d, const Blocks& b) : ld(b.size * d.l) {
    thread_local std::vector<T> columns_storage, staged_storage;
    columns = grown(columns_storage, g.groups * d.k * ld);
    staged = grown(staged_storage, g.c_out * ld);
  }
  static T* grown(std::vector<T>& storage, int64_t size) {
    if (storage.size() < static_cast<size_t>(size)) storage.resize(static_cast<size_t>(size));
    return storage.data();
  }
  int64_t ld;
  T* columns;
  T* staged;
};

// staged (C_out, b·L) <-> the block's samples (b, C_out, L); unstaging adds the bias, when
// given, to each channel.
template <typename T>
void unstage(const T* staged, int64_t ld, int64_t b, int64_t channels, int64_t l, const T* bias,
             T* samples) {
  for (int64_t s = 0; s < b; ++s) {
    for (int64_t c = 0; c < channels; ++c) {
      const T* from = staged + c * ld + s * l;
      T* to = samples + (s * channels + c) * l;
      if (bias == nullptr) {
        std::copy_n(from, l, to);
      } else {
        for (int64_t k = 0; k < l; ++k) to[k] = from[k] + bias[c];
      }
    }
  }
}
template <typename T>
void stage(const T* samples, int64_t b, int64_t channels, int64_t l, T* staged, int64_t ld) {
  for (int64_t s = 0; s < b; ++s) {
    for (int64_t c = 0; c < channels; ++c) {
      std::copy_n(samples + (s * channels + c) * l, l, staged + c * ld + s * l);
    }
  }
}

// Runs body(first_sample, samples_in_block, block_index, buffers) for every block, the
// blocks over the threads.
template <typename T, typename Body>
void for_each_block(const Conv2dGeometry& g, const GroupDims& d, Body&& body) {
  const Blocks blocks = blocks_of(g, d);
#pragma omp parallel if (blocks.count > 1)
  {
    BlockBuffers<T> buffers(g, d, blocks);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < blocks.count; ++i) {
      const int64_t first = i * blocks.size;
      body(first, std::min(blocks.size, g.n - first), i, buffers);
    }
  }
}

template <typename T>
void forward(const Conv2dArgs& a) {
  const Conv2dGeometry& g = a.g;
  const GroupDims d = group_dims(g);
  const T* x = static_cast<const T*>(a.x);
  const T* weight = static_cast<const T*>(a.weight);
  T* y = static_cast<T*>(a.out);
  for_each_block<T>(g, d, [&](int64_t first, int64_t b, int64_t, BlockBuffers<T>& buf) {
    for (int64_t s = 0; s < b; ++s) {
      im2col(g, x + (first + s) * g.c_in * g.h * g.w, buf.columns + s * d.l, buf.ld);
    }
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      // Y_g (oc, b·L) = W_g (oc, k) · columns_g (k, b·L)
      matmul(product(a.dtype, false, false, d.oc, b * d.l, d.k, weight + gi * d.oc * d.k, d.k,
                     buf.columns + gi * d.k * buf.ld, buf.ld, buf.staged + gi * d.oc * buf.ld,
                     buf.ld, 0.0));
    }
    unstage(buf.staged, buf.ld, b, g.c_out, d.l, static_cast<const T*>(a.bias),
            y + first * g.c_out * d.l);
  });
}

template <typename T>
void backward_data(const Conv2dArgs& a) {
  const Conv2dGeometry& g = a.g;
  const GroupDims d = group_dims(g);
  const T* weight = static_cast<const T*>(a.weight);
  const T* grad = static_cast<const T*>(a.grad_out);
  T* grad_x = static_cast<T*>(a.out);
  for_each_block<T>(g, d, [&](int64_t first, int64_t b, int64_t, BlockBuffers<T>& buf) {
    stage(grad + first * g.c_out * d.l, b, g.c_out, d.l, buf.staged, buf.ld);
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      // columns_g (k, b·L) = W_gᵀ (k, oc) · dY_g (oc, b·L)
      matmul(product(a.dtype, true, false, d.k, b * d.l, d.oc, weight + gi * d.oc * d.k, d.k,
                     buf.staged + gi * d.oc * buf.ld, buf.ld, buf.columns + gi * d.k * buf.ld,
                     buf.ld, 0.0));
    }
    for (int64_t s = 0; s < b; ++s) {
      col2im(g, buf.columns + s * d.l, buf.ld, grad_x + (first + s) * g.c_in * g.h * g.w);
    }
  });
}

// The filter gradient's blocks, each into its own partial (blocks.count x layout.size).
// Our own lowering: dW_g (oc, k) of a block = dY_g (oc, b·L) · columns_gᵀ (b·L, k); the bias's
// part sums each row of dY (oc, b·L) in order.
template <typename T>
void filter_partials(const Conv2dArgs& a, const GroupDims& d, const PartialLayout& layout,
                     T* partials) {
  const Conv2dGeometry& g = a.g;
  const T* x = static_cast<const T*>(a.x);
  const T* grad = static_cast<const T*>(a.grad_out);
  for_each_block<T>(g, d, [&](int64_t first, int64_t b, int64_t block, BlockBuffers<T>& buf) {
    for (int64_t s = 0; s < b; ++s) {
      im2col(g, x + (first + s) * g.c_in * g.h * g.w, buf.columns + s * d.l, buf.ld);
    }
    stage(grad + first * g.c_out * d.l, b, g.c_out, d.l, buf.staged, buf.ld);
    T* partial = partials + block * layout.size;
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      matmul(product(a.dtype, false, true, d.oc, d.k, b * d.l, buf.staged + gi * d.oc * buf.ld,
                     buf.ld, buf.columns + gi * d.k * buf.ld, buf.ld, partial + gi * d.oc * d.k,
                     d.k, 0.0));
    }
    if (a.grad_bias == nullptr) return;
    for (int64_t c = 0; c < g.c_out; ++c) {
      T total = 0;
      for (int64_t k = 0; k < b * d.l; ++k) total += buf.staged[c * buf.ld + k];
      partial[layout.filter_size + c] = total;
    }
  });
}

template <typename T>
void backward_filter(const Conv2dArgs& a) {
  const Conv2dGeometry& g = a.g;
  const GroupDims d = group_dims(g);
  T* grad_w = static_cast<T*>(a.out);
  T* grad_b = static_cast<T*>(a.grad_bias);
  const PartialLayout layout = partial_layout(a, d);
  const int64_t filter_size = layout.filter_size;
  if (g.n == 0) {
    std::fill_n(grad_w, filter_size, T(0));
    if (grad_b != nullptr) std::fill_n(grad_b, g.c_out, T(0));
    return;
  }
  bool onednn = false;
  if constexpr (std::is_same_v<T, float>) {
    Conv2dArgs block = a;  // what each block asks of oneDNN
    block.g.n = std::min(g.n, onednn::kBlockSamples);
    onednn = onednn::conv2d_filter_takes(block);
    if (onednn) return onednn_filter_gradient(a);
  }
  TG_CHECK(!a.blocked, "conv2d: oneDNN declined a blocked filter gradient");
  const Blocks blocks = blocks_of(g, d);
  T* const partials = partials_buffer<T>(blocks.count * layout.size);
  filter_partials(a, d, layout, partials);
  sum_partials(a, blocks, layout, partials, grad_w);
}

// The float32 twin of half-operand arguments: each operand given widened into `buffers`.
struct Widened {
  Conv2dArgs args;
  std::vector<float> buffers[3];
};

// Operand `src` ((rows, cols) contiguous), when given, widened into `out` and re-pointed.
void widen_operand(DType dtype, const void* src, int64_t rows, int64_t cols,
                   std::vector<float>& out, const void** pointer) {
  if (src == nullptr) return;
  out.resize(static_cast<size_t>(rows * cols));
  widen_rows(dtype, src, rows, cols, cols, out.data());
  *pointer = out.data();
}

void widen(const Conv2dArgs& a, Widened& w) {
  const Conv2dGeometry& g = a.g;
  w.args = a;
  w.args.dtype = DType::Float32;
  widen_operand(a.dtype, a.x, g.n * g.c_in, g.h * g.w, w.buffers[0], &w.args.x);
  widen_operand(a.dtype, a.weight, g.c_out, (g.c_in / g.groups) * g.kh * g.kw, w.buffers[1],
                &w.args.weight);
  widen_operand(a.dtype, a.grad_out, g.n * g.c_out, g.out_h * g.out_w, w.buffers[2],
                &w.args.grad_out);
}

}  // namespace

bool conv2d_blocked_takes(const Conv2dArgs& args) {
  check_conv2d_geometry(args.g);
  Conv2dArgs block = args;  // what each of the filter's blocks asks
  block.g.n = std::min(args.g.n, onednn::kBlockSamples);
  return onednn::conv2d_blocked_takes(args) &&
         (args.g.n == 0 || onednn::conv2d_filter_takes(block));
}

void conv2d_forward(const Conv2dArgs& args) {
  check_conv2d_geometry(args.g);
  check_layouts(args);
  if (first_layer::takes(args)) return first_layer::forward(args);  // Note [first layer]
  if (onednn::conv2d_forward(args)) return;
  TG_CHECK(!args.blocked, "conv2d: oneDNN declined a blocked forward (conv2d_blocked_takes)");
  if (is_half(args.dtype)) {
    Widened w;
    widen(args, w);
    return conv2d_forward(w.args);
  }
  visit_float_dtype(args.dtype, [&](auto tag) { forward<decltype(tag)>(args); });
}
void conv2d_backward_data(const Conv2dArgs& args) {
  check_conv2d_geometry(args.g);
  if (onednn::conv2d_backward_data(args)) return;
  TG_CHECK(!args.blocked, "conv2d: oneDNN declined a blocked data gradient");
  if (is_half(args.dtype)) {
    Widened w;
    widen(args, w);
    return conv2d_backward_data(w.args);
  }
  visit_float_dtype(args.dtype, [&](auto tag) { backward_data<decltype(tag)>(args); });
}
void conv2d_backward_filter(const Conv2dArgs& args) {
  check_conv2d_geometry(args.g);
  check_layouts(args);
  TG_CHECK(args.grad_bias == nullptr || !is_half(args.dtype),
           "conv2d: the bias's gradient is summed from the float32 output gradient, not from "
           "half operands (Note [conv2d bias])");
  if (is_half(args.dtype)) {
    Conv2dArgs block = args;  // what backward_filter will ask of oneDNN
    block.g.n = std::min(args.g.n, onednn::kBlockSamples);
    if (args.g.n > 0 && onednn::conv2d_filter_takes(block)) return backward_filter<float>(args);
    Widened w;
    widen(args, w);
    return conv2d_backward_filter(w.args);
  }
  visit_float_dtype(args.dtype, [&](auto tag) { backward_filter<decltype(tag)>(args); });
}

std::string conv2d_backend_description() {
#if TG_WITH_ONEDNN
  return std::string(
             "conv2d: oneDNN direct convolution (float32; the filter gradient per block "
             "of the batch, one thread each)") +
         (onednn::conv2d_winograd_available()
              ? ", Winograd F(4x4, 3x3) for 3x3 stride-1 layers with channels in multiples of 16 "
                "(every pass per block of the batch, one thread each)"
              : "") +
         ", im2col + GEMM (float64)";
#else
  return "conv2d: im2col + GEMM";
#endif
}

}  // namespace tg::kernels::cpu
