// CUDA launcher of softmax / log-softmax (kernels/softmax.h); the CPU twin is
// kernels/cpu/softmax.cpp. One block per row: a max tree, a sum tree, then the outputs.
#include "../softmax.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kSoftmaxThreads = 256;

// Reduces one value per thread with a fixed shared-memory tree; every thread gets the result.
template <typename T, bool kMax>
__device__ T block_reduce(T value, T* scratch) {
  scratch[threadIdx.x] = value;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      const T other = scratch[threadIdx.x + half];
      scratch[threadIdx.x] =
          kMax ? fmax(scratch[threadIdx.x], other) : scratch[threadIdx.x] + other;
    }
    __syncthreads();
  }
  const T result = scratch[0];
  __syncthreads();
  return result;
}

template <typename T>
__global__ void softmax_kernel(const T* __restrict__ in, T* __restrict__ out, SoftmaxArgs args) {
  __shared__ T scratch[kSoftmaxThreads];
  for (int64_t r = blockIdx.x; r < args.rows; r += gridDim.x) {
    const T* x = in + r * args.cols;
    T* y = out + r * args.cols;
    T local_max = -INFINITY;
    for (int64_t c = threadIdx.x; c < args.cols; c += blockDim.x) local_max = fmax(local_max, x[c]);
    const T row_max = block_reduce<T, true>(local_max, scratch);
    T local_sum = 0;
    for (int64_t c = threadIdx.x; c < args.cols; c += blockDim.x) local_sum += exp(x[c] - row_max);
    const T log_sum = log(block_reduce<T, false>(local_sum, scratch));
    for (int64_t c = threadIdx.x; c < args.cols; c += blockDim.x) {
      y[c] = softmax_element(args.log, x[c], row_max, log_sum);
    }
  }
}

}  // namespace

void softmax(const SoftmaxArgs& args, void* stream) {
  if (args.rows == 0 || args.cols == 0) return;
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(args.rows, 1 << 16));
    softmax_kernel<T><<<blocks, kSoftmaxThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.in), static_cast<T*>(args.out), args);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
