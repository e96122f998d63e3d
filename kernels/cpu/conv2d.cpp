// CPU launchers of conv2d (kernels/conv2d.h): im2col + GEMM per sample, the samples over
// the OpenMP threads (Note [cpu conv2d]).
#include <omp.h>

#include <algorithm>
#include <vector>

#include "tamegrad/kernels/conv2d.h"
#include "tamegrad/kernels/gemm.h"

namespace tg::kernels::cpu {

namespace {

struct GroupDims {
  int64_t k;   // C_in/groups · kh · kw: rows of a group's columns
  int64_t l;   // out_h · out_w
  int64_t oc;  // C_out / groups
};

GroupDims group_dims(const Conv2dGeometry& g) {
  return {g.c_in / g.groups * g.kh * g.kw, g.out_h * g.out_w, g.c_out / g.groups};
}

// The output positions o < out whose input position o·stride + offset lies in [0, size):
// [first, last). Inside it no bounds test is needed.
struct ValidRange {
  int64_t first, last;
};
ValidRange valid_outputs(int64_t out, int64_t stride, int64_t offset, int64_t size) {
  const auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); };
  const int64_t first = std::clamp<int64_t>(ceil_div(-offset, stride), 0, out);
  return {first, std::clamp<int64_t>(ceil_div(size - offset, stride), first, out)};
}

// The column matrix (kernels/conv2d.h) of one sample, a row (kernel tap) at a time: each
// output row copies the valid span of one input row (a shifted copy at stride 1) and zeroes
// the padding around it.
template <typename T>
void im2col(const Conv2dGeometry& g, const T* image, T* columns) {
  const int64_t rows = g.c_in * g.kh * g.kw, cols = g.out_h * g.out_w;
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 14) && !omp_in_parallel())
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t j = r % g.kw, i = (r / g.kw) % g.kh, c = r / (g.kw * g.kh);
    const int64_t offset_w = j * g.dil_w - g.pad_w;
    const ValidRange span = valid_outputs(g.out_w, g.stride_w, offset_w, g.w);
    T* dst = columns + r * cols;
    for (int64_t oh = 0; oh < g.out_h; ++oh, dst += g.out_w) {
      const int64_t h = oh * g.stride_h - g.pad_h + i * g.dil_h;
      if (h < 0 || h >= g.h) {
        for (int64_t ow = 0; ow < g.out_w; ++ow) dst[ow] = T(0);
        continue;
      }
      const T* src = image + (c * g.h + h) * g.w;
      for (int64_t ow = 0; ow < span.first; ++ow) dst[ow] = T(0);
      if (g.stride_w == 1) {
        for (int64_t ow = span.first; ow < span.last; ++ow) dst[ow] = src[ow + offset_w];
      } else {
        for (int64_t ow = span.first; ow < span.last; ++ow) {
          dst[ow] = src[ow * g.stride_w + offset_w];
        }
      }
      for (int64_t ow = span.last; ow < g.out_w; ++ow) dst[ow] = T(0);
    }
  }
}

// The adjoint of im2col: every column entry added back onto the input pixel it was copied
// from. A channel's taps are added in (i, j) order, so each pixel sums its contributions in
// the same order on every run; channels are independent and may run in parallel.
template <typename T>
void col2im(const Conv2dGeometry& g, const T* columns, T* image) {
  const int64_t cols = g.out_h * g.out_w;
#pragma omp parallel for schedule(static) if (g.c_in * g.h * g.w > (1 << 14) && !omp_in_parallel())
  for (int64_t c = 0; c < g.c_in; ++c) {
    T* plane = image + c * g.h * g.w;
    for (int64_t p = 0; p < g.h * g.w; ++p) plane[p] = T(0);
    for (int64_t i = 0; i < g.kh; ++i) {
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t offset_w = j * g.dil_w - g.pad_w;
        const ValidRange span = valid_outputs(g.out_w, g.stride_w, offset_w, g.w);
        const T* src = columns + ((c * g.kh + i) * g.kw + j) * cols;
        for (int64_t oh = 0; oh < g.out_h; ++oh, src += g.out_w) {
          const int64_t h = oh * g.stride_h - g.pad_h + i * g.dil_h;
          if (h < 0 || h >= g.h) continue;
          T* dst = plane + h * g.w;
          if (g.stride_w == 1) {
            for (int64_t ow = span.first; ow < span.last; ++ow) dst[ow + offset_w] += src[ow];
          } else {
            for (int64_t ow = span.first; ow < span.last; ++ow) {
              dst[ow * g.stride_w + offset_w] += src[ow];
            }
          }
        }
      }
    }
  }
}

GemmArgs product(DType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                 const void* a, int64_t lda, const void* b, int64_t ldb, void* c, int64_t ldc,
                 double beta) {
  return GemmArgs{dtype, trans_a, trans_b, m, n,   k, 1,   a,    lda,  0,
                  b,     ldb,     0,       c, ldc, 0, 1.0, beta, false};
}

// Note [cpu conv2d]
// Samples are spread over the OpenMP threads, and each thread lowers its sample with
// im2col into its own column buffer (small enough to stay in L2) and runs that sample's
// GEMMs on its own thread: oneDNN and OpenBLAS see they are inside a parallel region and do
// not spawn. One GEMM per sample and group at 2-8 threads beats one multi-threaded GEMM per
// sample (measured: conv 32->64 on 14x14 at batch 128, forward 14.9 ms -> see
// bench/results) since nothing waits at a barrier between samples. The filter gradient sums
// over samples: the batch is cut into a fixed number of chunks (set by N only), each chunk
// accumulates its samples in order into its own partial, and the partials are added in
// chunk order, so the result has the same bits whatever the thread count.
constexpr int64_t kFilterChunks = 32;

template <typename T>
void forward(const Conv2dArgs& a) {
  const Conv2dGeometry& g = a.g;
  const GroupDims d = group_dims(g);
  const T* x = static_cast<const T*>(a.x);
  const T* weight = static_cast<const T*>(a.weight);
  T* y = static_cast<T*>(a.out);
#pragma omp parallel if (g.n > 1)
  {
    std::vector<T> columns(static_cast<size_t>(g.groups * d.k * d.l));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.n; ++n) {
      im2col(g, x + n * g.c_in * g.h * g.w, columns.data());
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        gemm(product(a.dtype, false, false, d.oc, d.l, d.k, weight + gi * d.oc * d.k, d.k,
                     columns.data() + gi * d.k * d.l, d.l, y + (n * g.c_out + gi * d.oc) * d.l, d.l,
                     0.0));
      }
    }
  }
}

template <typename T>
void backward_data(const Conv2dArgs& a) {
  const Conv2dGeometry& g = a.g;
  const GroupDims d = group_dims(g);
  const T* weight = static_cast<const T*>(a.weight);
  const T* grad = static_cast<const T*>(a.grad_out);
  T* grad_x = static_cast<T*>(a.out);
#pragma omp parallel if (g.n > 1)
  {
    std::vector<T> columns(static_cast<size_t>(g.groups * d.k * d.l));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        // columns_g (k, l) = W_gᵀ (k, oc) · dY_g (oc, l)
        gemm(product(a.dtype, true, false, d.k, d.l, d.oc, weight + gi * d.oc * d.k, d.k,
                     grad + (n * g.c_out + gi * d.oc) * d.l, d.l, columns.data() + gi * d.k * d.l,
                     d.l, 0.0));
      }
      col2im(g, columns.data(), grad_x + n * g.c_in * g.h * g.w);
    }
  }
}

template <typename T>
void backward_filter(const Conv2dArgs& a) {
  const Conv2dGeometry& g = a.g;
  const GroupDims d = group_dims(g);
  const T* x = static_cast<const T*>(a.x);
  const T* grad = static_cast<const T*>(a.grad_out);
  T* grad_w = static_cast<T*>(a.out);
  const int64_t filter_size = g.c_out * d.k;
  if (g.n == 0) {
    for (int64_t i = 0; i < filter_size; ++i) grad_w[i] = T(0);
    return;
  }
  const int64_t chunks = std::min(g.n, kFilterChunks);
  std::vector<T> partials(static_cast<size_t>(chunks * filter_size));
#pragma omp parallel if (chunks > 1)
  {
    std::vector<T> columns(static_cast<size_t>(g.groups * d.k * d.l));
#pragma omp for schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      T* partial = partials.data() + c * filter_size;
      for (int64_t n = c * g.n / chunks; n < (c + 1) * g.n / chunks; ++n) {
        im2col(g, x + n * g.c_in * g.h * g.w, columns.data());
        const double beta = n == c * g.n / chunks ? 0.0 : 1.0;
        for (int64_t gi = 0; gi < g.groups; ++gi) {
          // dW_g (oc, k) += dY_g (oc, l) · columns_gᵀ (l, k)
          gemm(product(a.dtype, false, true, d.oc, d.k, d.l, grad + (n * g.c_out + gi * d.oc) * d.l,
                       d.l, columns.data() + gi * d.k * d.l, d.l, partial + gi * d.oc * d.k, d.k,
                       beta));
        }
      }
    }
  }
#pragma omp parallel for schedule(static) if (filter_size * chunks > (1 << 15))
  for (int64_t i = 0; i < filter_size; ++i) {
    T total = partials[i];
    for (int64_t c = 1; c < chunks; ++c) total += partials[c * filter_size + i];
    grad_w[i] = total;
  }
}

}  // namespace

void conv2d_forward(const Conv2dArgs& args) {
  check_conv2d_geometry(args.g);
  visit_float_dtype(args.dtype, [&](auto tag) { forward<decltype(tag)>(args); });
}
void conv2d_backward_data(const Conv2dArgs& args) {
  check_conv2d_geometry(args.g);
  visit_float_dtype(args.dtype, [&](auto tag) { backward_data<decltype(tag)>(args); });
}
void conv2d_backward_filter(const Conv2dArgs& args) {
  check_conv2d_geometry(args.g);
  visit_float_dtype(args.dtype, [&](auto tag) { backward_filter<decltype(tag)>(args); });
}

}  // namespace tg::kernels::cpu
