// CUDA launchers of the row reductions and the column sum (kernels/reduce.h); the CPU
// twin is kernels/cpu/reduce.cpp. Rows: one block per row (grid-stride over rows); each
// thread walks its strided share of the row, then a fixed shared-memory tree combines the threads,
// so the result does not depend on timing. Sums accumulate in the accumulator type (float for
// float32), values and indices of extremes together.
#include "tamegrad/kernels/cuda/launch.h"
#include "tamegrad/kernels/reduce.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kReduceThreads = 256;

template <typename T>
__global__ void reduce_kernel(const T* __restrict__ in, T* __restrict__ out,
                              int64_t* __restrict__ indices, ReduceArgs args) {
  __shared__ T values[kReduceThreads];
  __shared__ int64_t positions[kReduceThreads];
  for (int64_t row = blockIdx.x; row < args.outer; row += gridDim.x) {
    const T* x = in + row * args.inner;
    T value = T(0);
    int64_t position = -1;
    if (args.op == ReduceOp::Sum) {
      value = T(0);
      for (int64_t i = threadIdx.x; i < args.inner; i += blockDim.x) value += x[i];
    } else {
      for (int64_t i = threadIdx.x; i < args.inner; i += blockDim.x) {
        if (position < 0 || extreme_replaces(args.op, x[i], value)) {
          value = x[i];
          position = i;
        }
      }
    }
    values[threadIdx.x] = value;
    positions[threadIdx.x] = position;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) {
        const T other = values[threadIdx.x + half];
        const int64_t other_position = positions[threadIdx.x + half];
        if (args.op == ReduceOp::Sum) {
          values[threadIdx.x] += other;
        } else if (other_position >= 0) {
          const T mine = values[threadIdx.x];
          const int64_t my_position = positions[threadIdx.x];
          // Same rule as the CPU's scan: NaN first, then better, then the lower index.
          const bool take =
              my_position < 0 || extreme_replaces(args.op, other, mine) ||
              (other_position < my_position && !extreme_replaces(args.op, mine, other) &&
               !(mine != mine && other == other));
          if (take) {
            values[threadIdx.x] = other;
            positions[threadIdx.x] = other_position;
          }
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      out[row] = values[0];
      if (indices != nullptr) indices[row] = positions[0];
    }
    __syncthreads();
  }
}

// One thread per column, adding its rows in order (coalesced across the threads of a warp).
template <typename T>
__global__ void column_sum_kernel(const T* __restrict__ in, T* __restrict__ out, int64_t rows,
                                  int64_t cols) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= cols) return;
  T total = T(0);
  for (int64_t r = 0; r < rows; ++r) total += in[r * cols + j];
  out[j] = total;
}

}  // namespace

void column_sum(const ColumnSumArgs& args, void* stream) {
  if (args.cols == 0) return;
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    constexpr int kThreads = 256;
    const unsigned blocks = static_cast<unsigned>((args.cols + kThreads - 1) / kThreads);
    column_sum_kernel<T><<<blocks, kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.in), static_cast<T*>(args.out), args.rows, args.cols);
    TG_CUDA_CHECK_LAUNCH();
  });
}

void reduce(const ReduceArgs& args, void* stream) {
  if (args.outer == 0) return;
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(args.outer, 1 << 16));
    reduce_kernel<T><<<blocks, kReduceThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.in), static_cast<T*>(args.out), args.indices, args);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
