// CUDA launchers of the fused LSTM cell (kernels/lstm_cell.h); the CPU twin is
// kernels/cpu/lstm_cell.cpp. One thread per (sequence, unit), grid-stride; the per-unit math
// is the shared TG_HOST_DEVICE functions.
#include "../lstm_cell.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kCellThreads = 256;

template <typename T>
__global__ void lstm_cell_forward_kernel(const T* __restrict__ gates, const T* __restrict__ c,
                                         T* __restrict__ out, T* __restrict__ acts, int64_t batch,
                                         int64_t hidden) {
  const int64_t n = batch * hidden;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t b = k / hidden, j = k % hidden;
    const T* a = gates + b * 4 * hidden;
    T* act[5] = {acts + k, acts + n + k, acts + 2 * n + k, acts + 3 * n + k, acts + 4 * n + k};
    lstm_cell_forward_element(a[j], a[hidden + j], a[2 * hidden + j], a[3 * hidden + j], c[k],
                              &out[k], &out[n + k], acts != nullptr ? act : nullptr);
  }
}

template <typename T>
__global__ void lstm_cell_backward_kernel(const T* __restrict__ acts, const T* __restrict__ c,
                                          const T* __restrict__ grad, T* __restrict__ grad_gates,
                                          T* __restrict__ grad_c, int64_t batch, int64_t hidden) {
  const int64_t n = batch * hidden;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t b = k / hidden, j = k % hidden;
    T* da = grad_gates + b * 4 * hidden;
    lstm_cell_backward_element(acts[k], acts[n + k], acts[2 * n + k], acts[3 * n + k],
                               acts[4 * n + k], c[k], grad[k], grad[n + k], &da[j], &da[hidden + j],
                               &da[2 * hidden + j], &da[3 * hidden + j], &grad_c[k]);
  }
}

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>(std::min<int64_t>((n + kCellThreads - 1) / kCellThreads, 1 << 16));
}

}  // namespace

void lstm_cell_forward(const LstmCellArgs& args, void* stream) {
  const int64_t n = args.batch * args.hidden;
  if (n == 0) return;
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    lstm_cell_forward_kernel<T><<<blocks_for(n), kCellThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.gates), static_cast<const T*>(args.c), static_cast<T*>(args.out),
        static_cast<T*>(args.activations), args.batch, args.hidden);
    TG_CUDA_CHECK_LAUNCH();
  });
}

void lstm_cell_backward(const LstmCellArgs& args, void* stream) {
  const int64_t n = args.batch * args.hidden;
  if (n == 0) return;
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    lstm_cell_backward_kernel<T><<<blocks_for(n), kCellThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.activations), static_cast<const T*>(args.c),
        static_cast<const T*>(args.grad), static_cast<T*>(args.grad_gates),
        static_cast<T*>(args.grad_c), args.batch, args.hidden);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
