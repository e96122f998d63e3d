// CPU launchers of conv2d (kernels/conv2d.h): im2col + OpenBLAS GEMM, one sample at a time
// (OpenBLAS threads each product; im2col/col2im use OpenMP).
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

// The column matrix (kernels/conv2d.h) of one sample, a row (kernel tap) at a time so the
// inner loop walks one input row with no index division.
template <typename T>
void im2col(const Conv2dGeometry& g, const T* image, T* columns) {
  const int64_t rows = g.c_in * g.kh * g.kw, cols = g.out_h * g.out_w;
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 14))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t j = r % g.kw, i = (r / g.kw) % g.kh, c = r / (g.kw * g.kh);
    T* dst = columns + r * cols;
    for (int64_t oh = 0; oh < g.out_h; ++oh, dst += g.out_w) {
      const int64_t h = oh * g.stride_h - g.pad_h + i * g.dil_h;
      if (h < 0 || h >= g.h) {
        for (int64_t ow = 0; ow < g.out_w; ++ow) dst[ow] = T(0);
        continue;
      }
      const T* src = image + (c * g.h + h) * g.w;
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t w = ow * g.stride_w - g.pad_w + j * g.dil_w;
        dst[ow] = (w >= 0 && w < g.w) ? src[w] : T(0);
      }
    }
  }
}

template <typename T>
void col2im(const Conv2dGeometry& g, const T* columns, T* image) {
  const int64_t total = g.c_in * g.h * g.w;
#pragma omp parallel for schedule(static) if (total > (1 << 14))
  for (int64_t p = 0; p < total; ++p) {
    image[p] = col2im_element(g, columns, p / (g.h * g.w), (p / g.w) % g.h, p % g.w);
  }
}

GemmArgs product(DType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                 const void* a, int64_t lda, const void* b, int64_t ldb, void* c, int64_t ldc,
                 double beta) {
  return GemmArgs{dtype, trans_a, trans_b, m, n,   k, 1,   a,    lda,  0,
                  b,     ldb,     0,       c, ldc, 0, 1.0, beta, false};
}

template <typename T>
void forward(const Conv2dArgs& a) {
  const Conv2dGeometry& g = a.g;
  const GroupDims d = group_dims(g);
  std::vector<T> columns(static_cast<size_t>(g.groups * d.k * d.l));
  const T* x = static_cast<const T*>(a.x);
  const T* weight = static_cast<const T*>(a.weight);
  T* y = static_cast<T*>(a.out);
  for (int64_t n = 0; n < g.n; ++n) {
    im2col(g, x + n * g.c_in * g.h * g.w, columns.data());
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      gemm(product(a.dtype, false, false, d.oc, d.l, d.k, weight + gi * d.oc * d.k, d.k,
                   columns.data() + gi * d.k * d.l, d.l, y + (n * g.c_out + gi * d.oc) * d.l, d.l,
                   0.0));
    }
  }
}

template <typename T>
void backward_data(const Conv2dArgs& a) {
  const Conv2dGeometry& g = a.g;
  const GroupDims d = group_dims(g);
  std::vector<T> columns(static_cast<size_t>(g.groups * d.k * d.l));
  const T* weight = static_cast<const T*>(a.weight);
  const T* grad = static_cast<const T*>(a.grad_out);
  T* grad_x = static_cast<T*>(a.out);
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

template <typename T>
void backward_filter(const Conv2dArgs& a) {
  const Conv2dGeometry& g = a.g;
  const GroupDims d = group_dims(g);
  std::vector<T> columns(static_cast<size_t>(g.groups * d.k * d.l));
  const T* x = static_cast<const T*>(a.x);
  const T* grad = static_cast<const T*>(a.grad_out);
  T* grad_w = static_cast<T*>(a.out);
  if (g.n == 0) {
    for (int64_t i = 0; i < g.c_out * d.k; ++i) grad_w[i] = T(0);
    return;
  }
  for (int64_t n = 0; n < g.n; ++n) {
    im2col(g, x + n * g.c_in * g.h * g.w, columns.data());
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      // dW_g (oc, k) += dY_g (oc, l) · columns_gᵀ (l, k)
      gemm(product(a.dtype, false, true, d.oc, d.k, d.l, grad + (n * g.c_out + gi * d.oc) * d.l,
                   d.l, columns.data() + gi * d.k * d.l, d.l, grad_w + gi * d.oc * d.k, d.k,
                   n == 0 ? 0.0 : 1.0));
    }
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
