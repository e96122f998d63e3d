// CUDA launcher of dropout (kernels/dropout.h); the CPU twin is kernels/cpu/dropout.cpp.
// One thread per Philox block of 4 elements, which it reads and writes as one 16-byte
// vector when the buffers are aligned; the keep test is dropout_keep's, so masks match the
// CPU's bit for bit.
#include "../dropout.h"
#include "launch.h"
#include "vector_access.cuh"

namespace tg::kernels::cuda {

namespace {
template <typename T, bool kFour>
__global__ void dropout_kernel(const T* __restrict__ in, T* __restrict__ out, DropoutArgs a,
                               int64_t blocks) {
  const T scale = static_cast<T>(a.scale);
  const uint64_t offset = a.offset + (a.offset_base != nullptr ? *a.offset_base : 0);
  for (const int64_t b : grid_stride(blocks)) {
    const Philox4x32 r = philox_block(a.seed, offset, static_cast<uint64_t>(b));
    const int64_t first = 4 * b;
    if (kFour && first + 4 <= a.n) {
      T x[4];
      load(in + first, x);
#pragma unroll
      for (int j = 0; j < 4; ++j) x[j] = dropout_element(r.v[j], x[j], a.threshold, scale);
      store(out + first, x);
    } else {
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        if (first + j < a.n)
          out[first + j] = dropout_element(r.v[j], in[first + j], a.threshold, scale);
      }
    }
  }
}
}  // namespace

void dropout(const DropoutArgs& a, void* stream) {
  TG_CHECK(!a.relu && a.gate == nullptr,
           "dropout: the fused ReLU and its gate are the CPU's (Note [relu + dropout])");
  if (a.n == 0) return;
  const int64_t blocks = (a.n + 3) / 4;
  const bool four = aligned_for_four({a.in, a.out});
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    auto kernel = four ? dropout_kernel<T, true> : dropout_kernel<T, false>;
    kernel<<<grid_for(blocks), kThreads, 0, as_stream(stream)>>>(static_cast<const T*>(a.in),
                                                                 static_cast<T*>(a.out), a, blocks);
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
