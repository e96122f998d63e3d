// CUDA launchers of the row reductions and the column sum (kernels/reduce.h); the CPU
// twin is kernels/cpu/reduce.cpp. Rows: one block per row (grid-stride over rows), or per
// chunk of a few long rows and then one per row over the chunks' partials (Note [long
// rows]); each thread walks its strided share of the range, then a fixed shared-memory tree
// combines the threads, so the result does not depend on timing. Sums accumulate in the
// accumulator type (float for float32; int64 wrapping), values and indices of extremes
// together.
#include "../reduce.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kReduceThreads = 256;

// Items [begin, end) of one row reduced by the whole block: item(i) gives the i-th item's
// value and its position in the row (an element and its index, or a chunk's partial).
// Thread 0 returns the result (value, and for Max/Min its position); every thread calls it.
template <typename T, typename Item>
__device__ void block_reduce(ReduceOp op, int64_t begin, int64_t end, Item item, T& value,
                             int64_t& position) {
  __shared__ T values[kReduceThreads];
  __shared__ int64_t positions[kReduceThreads];
  value = T(0);
  position = -1;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    T v;
    int64_t p;
    item(i, v, p);
    if (op == ReduceOp::Sum) {
      value = reduce_add(value, v);
    } else if (extreme_wins(op, v, p, value, position)) {
      value = v;
      position = p;
    }
  }
  values[threadIdx.x] = value;
  positions[threadIdx.x] = position;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      const T other = values[threadIdx.x + half];
      const int64_t other_position = positions[threadIdx.x + half];
      if (op == ReduceOp::Sum) {
        values[threadIdx.x] = reduce_add(values[threadIdx.x], other);
      } else if (extreme_wins(op, other, other_position, values[threadIdx.x],
                              positions[threadIdx.x])) {
        values[threadIdx.x] = other;
        positions[threadIdx.x] = other_position;
      }
    }
    __syncthreads();
  }
  value = values[0];
  position = positions[0];
  __syncthreads();  // values and positions may be rewritten by the next call
}

// Chunk p of the outer · chunks.count, one block each, to its value and, when positions is
// not null, its extreme's position in the row: the rows' results when rows are not cut
// (chunks.count 1), else the partials of Note [long rows]'s first launch.
template <typename T>
__global__ void reduce_chunks_kernel(const T* __restrict__ in, T* __restrict__ partials,
                                     int64_t* __restrict__ positions, ReduceArgs args,
                                     ReduceChunks chunks) {
  const int64_t count = args.outer * chunks.count;
  for (int64_t p = blockIdx.x; p < count; p += gridDim.x) {
    const int64_t row = p / chunks.count, begin = p % chunks.count * chunks.length;
    const int64_t end = begin + chunks.length < args.inner ? begin + chunks.length : args.inner;
    const T* x = in + row * args.inner;
    T value;
    int64_t position;
    block_reduce<T>(
        args.op, begin, end,
        [x](int64_t i, T& v, int64_t& q) {
          v = x[i];
          q = i;
        },
        value, position);
    if (threadIdx.x == 0) {
      partials[p] = value;
      if (positions != nullptr) positions[p] = position;
    }
  }
}

// Second launch: each row's chunks.count partials, one block per row.
template <typename T>
__global__ void reduce_partials_kernel(const T* __restrict__ partials,
                                       const int64_t* __restrict__ positions, T* __restrict__ out,
                                       int64_t* __restrict__ indices, ReduceArgs args,
                                       ReduceChunks chunks) {
  for (int64_t row = blockIdx.x; row < args.outer; row += gridDim.x) {
    const T* part = partials + row * chunks.count;
    const int64_t* where = positions + row * chunks.count;
    T value;
    int64_t position;
    block_reduce<T>(
        args.op, 0, chunks.count,
        [part, where](int64_t i, T& v, int64_t& p) {
          v = part[i];
          p = where[i];
        },
        value, position);
    if (threadIdx.x == 0) {
      out[row] = value;
      if (indices != nullptr) indices[row] = position;
    }
  }
}

// One thread per column, adding its rows in order (coalesced across the threads of a warp).
template <typename T>
__global__ void column_sum_kernel(const T* __restrict__ in, T* __restrict__ out, int64_t rows,
                                  int64_t cols) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= cols) return;
  T total = T(0);
  for (int64_t r = 0; r < rows; ++r) total = reduce_add(total, in[r * cols + j]);
  out[j] = total;
}

}  // namespace

void column_sum(const ColumnSumArgs& args, void* stream) {
  if (args.cols == 0) return;
  visit_reduce_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    constexpr int kThreads = 256;
    const unsigned blocks = static_cast<unsigned>((args.cols + kThreads - 1) / kThreads);
    column_sum_kernel<T><<<blocks, kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.in), static_cast<T*>(args.out), args.rows, args.cols);
    TG_CUDA_CHECK_LAUNCH();
  });
}

void reduce(const ReduceArgs& args, void* stream, const ScratchAllocator& scratch) {
  if (args.outer == 0) return;
  const ReduceChunks chunks = reduce_chunks(args.outer, args.inner);
  visit_reduce_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(args.in);
    T* out = static_cast<T*>(args.out);
    const unsigned row_blocks = static_cast<unsigned>(std::min<int64_t>(args.outer, 1 << 16));
    if (chunks.count == 1) {
      reduce_chunks_kernel<T><<<row_blocks, kReduceThreads, 0, as_stream(stream)>>>(
          in, out, args.indices, args, chunks);
      TG_CUDA_CHECK_LAUNCH();
      return;
    }
    const int64_t count = args.outer * chunks.count;
    // The positions first: 8-byte aligned whatever T is.
    ScratchBuffer buffer(scratch, static_cast<size_t>(count) * (sizeof(int64_t) + sizeof(T)));
    int64_t* positions = buffer.as<int64_t>();
    T* partials = reinterpret_cast<T*>(positions + count);
    reduce_chunks_kernel<T>
        <<<static_cast<unsigned>(std::min<int64_t>(count, 1 << 16)), kReduceThreads, 0,
           as_stream(stream)>>>(in, partials, positions, args, chunks);
    TG_CUDA_CHECK_LAUNCH();
    reduce_partials_kernel<T><<<row_blocks, kReduceThreads, 0, as_stream(stream)>>>(
        partials, positions, out, args.indices, args, chunks);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
