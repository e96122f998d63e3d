// CUDA launchers of the fused GRU cell (kernels/gru_cell.h); the CPU twin is
// kernels/cpu/gru_cell.cpp. One thread per (sequence, unit), grid-stride; the per-unit math
// is the shared TG_HOST_DEVICE functions.
#include "../gru_cell.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kGruThreads = 256;

template <typename T>
__global__ void gru_cell_forward_kernel(const T* __restrict__ a, const T* __restrict__ b,
                                        const T* __restrict__ h, T* __restrict__ out,
                                        T* __restrict__ acts, int64_t batch, int64_t hidden) {
  const int64_t n = batch * hidden;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t s = k / hidden, j = k % hidden;
    const T* as = a + s * 3 * hidden;
    const T* bs = b + s * 3 * hidden;
    T* act[4] = {acts + k, acts + n + k, acts + 2 * n + k, acts + 3 * n + k};
    out[k] =
        gru_cell_forward_element(as[j], as[hidden + j], as[2 * hidden + j], bs[j], bs[hidden + j],
                                 bs[2 * hidden + j], h[k], acts != nullptr ? act : nullptr);
  }
}

template <typename T>
__global__ void gru_cell_backward_kernel(const T* __restrict__ acts, const T* __restrict__ h,
                                         const T* __restrict__ grad, T* __restrict__ da,
                                         T* __restrict__ db, T* __restrict__ dh, int64_t batch,
                                         int64_t hidden) {
  const int64_t n = batch * hidden;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t s = k / hidden, j = k % hidden;
    T* das = da + s * 3 * hidden;
    T* dbs = db + s * 3 * hidden;
    gru_cell_backward_element(acts[k], acts[n + k], acts[2 * n + k], acts[3 * n + k], h[k], grad[k],
                              &das[j], &das[hidden + j], &das[2 * hidden + j], &dbs[2 * hidden + j],
                              &dh[k]);
    dbs[j] = das[j];  // r and z enter as a + b: the same gradient
    dbs[hidden + j] = das[hidden + j];
  }
}

unsigned gru_blocks(int64_t n) {
  return static_cast<unsigned>(std::min<int64_t>((n + kGruThreads - 1) / kGruThreads, 1 << 16));
}

}  // namespace

void gru_cell_forward(const GruCellArgs& args, void* stream) {
  const int64_t n = args.batch * args.hidden;
  if (n == 0) return;
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    gru_cell_forward_kernel<T><<<gru_blocks(n), kGruThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.input_gates), static_cast<const T*>(args.hidden_gates),
        static_cast<const T*>(args.h), static_cast<T*>(args.out), static_cast<T*>(args.activations),
        args.batch, args.hidden);
    TG_CUDA_CHECK_LAUNCH();
  });
}

void gru_cell_backward(const GruCellArgs& args, void* stream) {
  const int64_t n = args.batch * args.hidden;
  if (n == 0) return;
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    gru_cell_backward_kernel<T><<<gru_blocks(n), kGruThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(args.activations), static_cast<const T*>(args.h),
        static_cast<const T*>(args.grad), static_cast<T*>(args.grad_input_gates),
        static_cast<T*>(args.grad_hidden_gates), static_cast<T*>(args.grad_h), args.batch,
        args.hidden);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
