// Index ops: gather along a dim and its adjoint (scatter-add), index_select and its
// adjoint (index-add), one_hot.
//
// The adjoints are written in gather form, each output element summing the entries that
// point at it in index order, so they are deterministic without atomics; they cost
// (output elements) × (index entries along the dim), fine for the small index extents
// the layers use (class targets, argmax positions).
//
// gather and index_select copy any dtype (labels are int64, images uint8); the adjoints
// and one_hot are floating-point only.
//
// Out-of-range indices: the front-end checks them on the CPU; on CUDA (where checking
// would need a host round trip) gather and index_select produce NaN for them (0 for an
// integer dtype, which has no NaN) and the adjoints ignore them.
//
// Front-end: core/ops/index.cpp. Tests: the op table, tests/ops/op_cases_nn.cpp
//   (gradcheck: tests/ops/gradcheck_test.cpp; CUDA vs CPU:
//   tests/cuda/op_parity_test.cpp)
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "common.h"

namespace tg::kernels {

// out[p] = src[p with coordinate `dim` replaced by index[p]], for every p of index's shape.
struct GatherArgs {
  DType dtype;
  int ndim;
  int dim;
  int64_t numel;            // of index and out
  int64_t sizes[kMaxDims];  // index's (= out's) shape
  const int64_t* index;     // contiguous
  const void* src;
  int64_t src_strides[kMaxDims];
  int64_t src_dim_size;
  void* out;  // contiguous
};

// out (zero-based, contiguous, of out_sizes) [q] = Σ over p of index's shape with
// p = q off `dim` and index[p] = q[dim] of grad[p]  (grad contiguous, index's shape).
struct ScatterAddArgs {
  DType dtype;
  int ndim;
  int dim;
  int64_t numel;  // of out
  int64_t out_sizes[kMaxDims];
  int64_t index_sizes[kMaxDims];  // index's (= grad's) shape, each <= out_sizes off dim
  const int64_t* index;           // contiguous
  const void* grad;               // contiguous
  void* out;                      // contiguous
};

// index_select viewed as (outer, dim_size, inner): out[o][j][i] = src[o][index[j]][i].
struct IndexSelectArgs {
  DType dtype;
  int64_t outer, inner;
  int64_t src_dim_size;
  int64_t index_count;
  const int64_t* index;  // (index_count,)
  const void* src;       // (outer, src_dim_size, inner) contiguous
  void* out;             // (outer, index_count, inner) contiguous
};

// The adjoint: out[o][k][i] = Σ_j [index[j] == k] grad[o][j][i]  (out: src's layout).
struct IndexAddArgs {
  DType dtype;
  int64_t outer, inner;
  int64_t out_dim_size;
  int64_t index_count;
  const int64_t* index;
  const void* grad;  // (outer, index_count, inner) contiguous
  void* out;         // (outer, out_dim_size, inner) contiguous
};

// out[i][c] = (labels[i] == c), float32 or float64, (count, classes) contiguous.
struct OneHotArgs {
  DType dtype;
  int64_t count, classes;
  const int64_t* labels;
  void* out;
};

// The coordinate along `dim` of the linear-th element of `sizes`, and the offset in a
// tensor of `strides` of that element with its `dim` coordinate replaced by `along`.
TG_HOST_DEVICE int64_t offset_with_dim(int64_t linear, int ndim, const int64_t* sizes,
                                       const int64_t* strides, int dim, int64_t along) {
  int64_t offset = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    const int64_t i = linear % sizes[d];
    linear /= sizes[d];
    offset += (d == dim ? along : i) * strides[d];
  }
  return offset;
}

// What gather and index_select produce for an out-of-range index on the GPU.
template <typename T>
TG_HOST_DEVICE T out_of_range_value() {
  if constexpr (std::is_floating_point_v<T> || is_half_type_v<T>) {
    return convert_element<T>(static_cast<float>(NAN));
  } else {
    return T(0);
  }
}

// One output element of each op; both launchers loop over these.
template <typename T>
TG_HOST_DEVICE T gather_element(const GatherArgs& a, int64_t p) {
  const int64_t k = a.index[p];
  if (k < 0 || k >= a.src_dim_size) return out_of_range_value<T>();
  const T* src = static_cast<const T*>(a.src);
  return src[offset_with_dim(p, a.ndim, a.sizes, a.src_strides, a.dim, k)];
}

template <typename T>
TG_HOST_DEVICE T scatter_add_element(const ScatterAddArgs& a, int64_t q) {
  // q's coordinates; outside index's extent off the dim, nothing points here.
  int64_t coords[kMaxDims] = {};
  int64_t rest = q;
  for (int d = a.ndim - 1; d >= 0; --d) {
    coords[d] = rest % a.out_sizes[d];
    rest /= a.out_sizes[d];
  }
  // Row-major strides of index (and grad): base offset off the dim, stride along it.
  int64_t base = 0, stride = 0, running = 1;
  for (int d = a.ndim - 1; d >= 0; --d) {
    if (d == a.dim) {
      stride = running;
    } else {
      if (coords[d] >= a.index_sizes[d]) return T(0);
      base += coords[d] * running;
    }
    running *= a.index_sizes[d];
  }
  const T* grad = static_cast<const T*>(a.grad);
  T total = T(0);
  for (int64_t j = 0; j < a.index_sizes[a.dim]; ++j) {
    if (a.index[base + j * stride] == coords[a.dim]) total += grad[base + j * stride];
  }
  return total;
}

template <typename T>
TG_HOST_DEVICE T index_select_element(const IndexSelectArgs& a, int64_t p) {
  const int64_t i = p % a.inner;
  const int64_t j = (p / a.inner) % a.index_count;
  const int64_t o = p / (a.inner * a.index_count);
  const int64_t k = a.index[j];
  if (k < 0 || k >= a.src_dim_size) return out_of_range_value<T>();
  return static_cast<const T*>(a.src)[(o * a.src_dim_size + k) * a.inner + i];
}

template <typename T>
TG_HOST_DEVICE T index_add_element(const IndexAddArgs& a, int64_t q) {
  const int64_t i = q % a.inner;
  const int64_t k = (q / a.inner) % a.out_dim_size;
  const int64_t o = q / (a.inner * a.out_dim_size);
  const T* grad = static_cast<const T*>(a.grad);
  T total = T(0);
  for (int64_t j = 0; j < a.index_count; ++j) {
    if (a.index[j] == k) total += grad[(o * a.index_count + j) * a.inner + i];
  }
  return total;
}

template <typename T>
TG_HOST_DEVICE T one_hot_element(const OneHotArgs& a, int64_t p) {
  return a.labels[p / a.classes] == p % a.classes ? T(1) : T(0);
}

namespace cpu {
void gather(const GatherArgs& args);
void scatter_add(const ScatterAddArgs& args);
void index_select(const IndexSelectArgs& args);
void index_add(const IndexAddArgs& args);
void one_hot(const OneHotArgs& args);
}  // namespace cpu
namespace cuda {
void gather(const GatherArgs& args, void* stream);
void scatter_add(const ScatterAddArgs& args, void* stream);
void index_select(const IndexSelectArgs& args, void* stream);
void index_add(const IndexAddArgs& args, void* stream);
void one_hot(const OneHotArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
