// CPU launchers of 2-D pooling (kernels/pool.h): OpenMP over planes (N·C), each plane
// walked row by row with no index division per element. The backward pass scatters each
// output's gradient onto its window (the argmax, for max pooling) instead of the CUDA side's
// gather: a plane belongs to one thread, and every input element still receives its
// contributions in increasing output order, so the sums have the same bits as the gather.
#include "../pool.h"

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace tg::kernels::cpu {

namespace {

// Planes are independent: spread them over the threads when there is enough work.
constexpr int64_t kParallelAbove = 1 << 12;

// max_pool_element's rule for one more candidate: NaN wins and stays, otherwise strictly
// greater wins. The choice is made with bit masks, not a branch or a ternary (which the
// compiler turns back into a branch that random data mispredicts half the time).
template <typename T>
inline void consider(T v, int64_t at, T& best, int64_t& best_at) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const bool take = (best == best) & ((v > best) | (v != v));
  const Bits mask = Bits(0) - static_cast<Bits>(take);
  Bits v_bits, best_bits;
  std::memcpy(&v_bits, &v, sizeof(T));
  std::memcpy(&best_bits, &best, sizeof(T));
  best_bits = (v_bits & mask) | (best_bits & ~mask);
  std::memcpy(&best, &best_bits, sizeof(T));
  const int64_t at_mask = -static_cast<int64_t>(take);
  best_at = (at & at_mask) | (best_at & ~at_mask);
}

// The common 2x2, stride 2, no padding window as straight-line code without branches.
// Same result as max_pool_element, same order of candidates.
template <typename T>
void max_pool_2x2(const Pool2dArgs& a, const T* plane, T* y, int64_t* argmax) {
  for (int64_t oh = 0; oh < a.out_h; ++oh) {
    const int64_t top = 2 * oh * a.in_w, bottom = top + a.in_w;
    for (int64_t ow = 0; ow < a.out_w; ++ow) {
      const int64_t w = 2 * ow;
      T best = plane[top + w];
      int64_t best_at = top + w;
      consider(plane[top + w + 1], top + w + 1, best, best_at);
      consider(plane[bottom + w], bottom + w, best, best_at);
      consider(plane[bottom + w + 1], bottom + w + 1, best, best_at);
      y[oh * a.out_w + ow] = best;
      argmax[oh * a.out_w + ow] = best_at;
    }
  }
}

// Also every window inside the input (ceil_mode can add a last, partial one).
bool is_plain_2x2(const Pool2dArgs& a) {
  return a.kernel_h == 2 && a.kernel_w == 2 && a.stride_h == 2 && a.stride_w == 2 && a.pad_h == 0 &&
         a.pad_w == 0 && a.dil_h == 1 && a.dil_w == 1 && 2 * a.out_h <= a.in_h &&
         2 * a.out_w <= a.in_w;
}

}  // namespace

void pool2d_forward(const PoolForwardArgs& args) {
  const Pool2dArgs& a = args.shape;
  const int64_t in_plane = a.in_h * a.in_w, out_plane = a.out_h * a.out_w;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(args.in);
    T* out = static_cast<T*>(args.out);
#pragma omp parallel for schedule(static) if (a.planes * out_plane > kParallelAbove)
    for (int64_t p = 0; p < a.planes; ++p) {
      const T* plane = in + p * in_plane;
      T* y = out + p * out_plane;
      int64_t* argmax = args.is_max ? args.argmax + p * out_plane : nullptr;
      if (args.is_max && is_plain_2x2(a)) {
        max_pool_2x2(a, plane, y, argmax);
        continue;
      }
      for (int64_t oh = 0; oh < a.out_h; ++oh) {
        for (int64_t ow = 0; ow < a.out_w; ++ow) {
          const int64_t o = oh * a.out_w + ow;
          y[o] = args.is_max ? max_pool_element(a, plane, oh, ow, &argmax[o])
                             : avg_pool_element(a, plane, oh, ow);
        }
      }
    }
  });
}

void pool2d_backward(const PoolBackwardArgs& args) {
  const Pool2dArgs& a = args.shape;
  const int64_t in_plane = a.in_h * a.in_w, out_plane = a.out_h * a.out_w;
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* grad = static_cast<const T*>(args.grad);
    T* grad_in = static_cast<T*>(args.grad_in);
#pragma omp parallel for schedule(static) if (a.planes * in_plane > kParallelAbove)
    for (int64_t p = 0; p < a.planes; ++p) {
      T* dx = grad_in + p * in_plane;
      const T* g = grad + p * out_plane;
      for (int64_t i = 0; i < in_plane; ++i) dx[i] = T(0);
      if (args.is_max) {
        const int64_t* argmax = args.argmax + p * out_plane;
        for (int64_t o = 0; o < out_plane; ++o) dx[argmax[o]] += g[o];
        continue;
      }
      for (int64_t oh = 0; oh < a.out_h; ++oh) {
        const int64_t h0 = window_start(oh, a.stride_h, a.pad_h);
        for (int64_t ow = 0; ow < a.out_w; ++ow) {
          const int64_t w0 = window_start(ow, a.stride_w, a.pad_w);
          const T share = g[oh * a.out_w + ow] / avg_pool_divisor<T>(a, oh, ow);
          for (int64_t h = h0 < 0 ? 0 : h0; h < h0 + a.kernel_h && h < a.in_h; ++h) {
            for (int64_t w = w0 < 0 ? 0 : w0; w < w0 + a.kernel_w && w < a.in_w; ++w) {
              dx[h * a.in_w + w] += share;
            }
          }
        }
      }
    }
  });
}

}  // namespace tg::kernels::cpu
