// CPU launchers of the row reductions and the column sum (kernels/reduce.h): OpenMP over
// rows, or over the chunks of a few long rows (Note [long rows]), or over blocks of
// columns; sums accumulated in double (integers: in wrapping uint64).
#include "../reduce.h"

#include <algorithm>
#include <vector>

namespace tg::kernels::cpu {

namespace {

// Elements [begin, end) of a row reduced: their sum in double, or their extreme and its
// index in the row (the first of equals, the first NaN).
template <typename T>
struct Part {
  SumAccumulator<T> sum = 0;
  T best{};
  int64_t position = -1;
};

constexpr int kLanes = 8;  // running sums: no add waits for the one before it

template <typename T>
Part<T> reduce_part(ReduceOp op, const T* x, int64_t begin, int64_t end) {
  Part<T> part;
  if (op == ReduceOp::Sum) {
    SumAccumulator<T> s[kLanes] = {};
    int64_t i = begin;
    for (; i + kLanes <= end; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) s[k] += static_cast<SumAccumulator<T>>(x[i + k]);
    }
    for (; i < end; ++i) s[0] += static_cast<SumAccumulator<T>>(x[i]);
    for (int width = kLanes / 2; width > 0; width /= 2) {  // a fixed tree over the lanes
      for (int k = 0; k < width; ++k) s[k] += s[k + width];
    }
    part.sum = s[0];
    return part;
  }
  part.best = x[begin];
  part.position = begin;
  for (int64_t i = begin + 1; i < end; ++i) {
    if (extreme_replaces(op, x[i], part.best)) {
      part.best = x[i];
      part.position = i;
    }
  }
  return part;
}

template <typename T>
void write_part(const ReduceArgs& args, int64_t row, const Part<T>& part) {
  T* out = static_cast<T*>(args.out);
  if (args.op == ReduceOp::Sum) {
    out[row] = static_cast<T>(part.sum);
    return;
  }
  out[row] = part.best;
  if (args.indices != nullptr) args.indices[row] = part.position;
}

}  // namespace

void reduce(const ReduceArgs& args) {
  const ReduceChunks chunks = reduce_chunks(args.outer, args.inner);
  visit_reduce_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(args.in);
    if (chunks.count == 1) {
#pragma omp parallel for schedule(static) if (args.outer * args.inner > (1 << 15))
      for (int64_t row = 0; row < args.outer; ++row) {
        write_part(args, row, reduce_part(args.op, in + row * args.inner, 0, args.inner));
      }
      return;
    }
    // Note [long rows]: the chunks in parallel, then each row's partials in chunk order.
    const int64_t count = args.outer * chunks.count;
    std::vector<Part<T>> parts(static_cast<size_t>(count));
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < count; ++p) {
      const int64_t row = p / chunks.count, begin = p % chunks.count * chunks.length;
      parts[p] = reduce_part(args.op, in + row * args.inner, begin,
                             std::min(begin + chunks.length, args.inner));
    }
    for (int64_t row = 0; row < args.outer; ++row) {
      Part<T> total;
      for (int64_t c = 0; c < chunks.count; ++c) {
        const Part<T>& part = parts[row * chunks.count + c];
        total.sum += part.sum;
        if (extreme_wins(args.op, part.best, part.position, total.best, total.position)) {
          total.best = part.best;
          total.position = part.position;
        }
      }
      write_part(args, row, total);
    }
  });
}

void column_sum(const ColumnSumArgs& args) {
  visit_reduce_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(args.in);
    T* out = static_cast<T*>(args.out);
    constexpr int64_t kBlock = 256;  // columns per task: their accumulators stay in registers/L1
    const int64_t blocks = (args.cols + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (args.rows * args.cols > (1 << 15))
    for (int64_t block = 0; block < blocks; ++block) {
      const int64_t first = block * kBlock, width = std::min(kBlock, args.cols - first);
      SumAccumulator<T> total[kBlock];
      for (int64_t j = 0; j < width; ++j) total[j] = 0;
      for (int64_t r = 0; r < args.rows; ++r) {
        const T* row = in + r * args.cols + first;
        for (int64_t j = 0; j < width; ++j) total[j] += static_cast<SumAccumulator<T>>(row[j]);
      }
      for (int64_t j = 0; j < width; ++j) out[first + j] = static_cast<T>(total[j]);
    }
  });
}

}  // namespace tg::kernels::cpu
