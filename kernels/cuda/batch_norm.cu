// CUDA launchers of batch normalisation (kernels/batch_norm.h); the CPU twin is
// kernels/cpu/batch_norm.cpp.
//   statistics: grid (chunks, C); each block summarises one chunk of one channel
//               (Welford per thread, Chan merges in a fixed tree) into a partial; then one
//               thread per channel merges that channel's partials in chunk order.
//   backward:   the same layout for Σg and Σg·xhat.
//   elementwise passes: one thread per element.
// Chunks are chosen so that C·chunks blocks cover the GPU even when C is small.
// Index math runs in 32-bit unsigned integers (template parameter I) whenever the tensor
// has fewer than 2^31 elements: a 64-bit division is a long software routine on the GPU,
// and the per-element channel lookups were the passes' bottleneck.
#include "../batch_norm.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

constexpr int kStatThreads = 256;

struct Chunking {
  int64_t chunks;
  int64_t length;  // elements of a channel per chunk
};

Chunking chunking(const BatchNormShape& s) {
  int device = 0, sms = 1;
  TG_CUDA_CHECK(cudaGetDevice(&device));
  TG_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const int64_t count = std::max<int64_t>(s.count(), 1);
  const int64_t wanted = std::max<int64_t>(1, (4 * sms + s.c - 1) / std::max<int64_t>(s.c, 1));
  const int64_t chunks = std::max<int64_t>(1, std::min(wanted, (count + 2047) / 2048));
  return {chunks, (count + chunks - 1) / chunks};
}

// Stage 1 of the statistics: (count, mean, M2) of one chunk of one channel.
// Offset of the k-th element of channel c, in the launch's index type.
template <typename I>
__device__ __forceinline__ I channel_offset(I k, I c, I channels, I hw) {
  return (k / hw * channels + c) * hw + k % hw;
}

template <typename T, typename I>
__global__ void moments_partial_kernel(const T* __restrict__ x, BatchNormShape s, Chunking ch,
                                       T* __restrict__ partials) {
  __shared__ T counts[kStatThreads], means[kStatThreads], m2s[kStatThreads];
  const int64_t c = blockIdx.y, chunk = blockIdx.x;
  const I begin = static_cast<I>(chunk * ch.length);
  const I end = static_cast<I>(min(s.count(), chunk * ch.length + ch.length));
  const I channels = static_cast<I>(s.c), hw = static_cast<I>(s.hw);
  T n = 0, mean = 0, m2 = 0;
  for (I k = begin + threadIdx.x; k < end; k += blockDim.x) {
    const T v = x[channel_offset<I>(k, static_cast<I>(c), channels, hw)];
    n += T(1);
    const T d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  counts[threadIdx.x] = n;
  means[threadIdx.x] = mean;
  m2s[threadIdx.x] = m2;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      merge_moments(counts[threadIdx.x], means[threadIdx.x], m2s[threadIdx.x],
                    counts[threadIdx.x + half], means[threadIdx.x + half], m2s[threadIdx.x + half]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    T* out = partials + 3 * (c * ch.chunks + chunk);
    out[0] = counts[0];
    out[1] = means[0];
    out[2] = m2s[0];
  }
}

// Stage 2: one thread per channel merges its partials; writes the statistics used.
template <typename T>
__global__ void moments_final_kernel(const T* __restrict__ partials, BatchNormForwardArgs a,
                                     Chunking ch) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= a.shape.c) return;
  T n = 0, mean = 0, m2 = 0;
  for (int64_t chunk = 0; chunk < ch.chunks; ++chunk) {
    const T* p = partials + 3 * (c * ch.chunks + chunk);
    merge_moments(n, mean, m2, p[0], p[1], p[2]);
  }
  const T var = n > T(0) ? m2 / n : T(0);
  static_cast<T*>(a.save_mean)[c] = mean;
  static_cast<T*>(a.save_invstd)[c] = T(1) / sqrt(var + static_cast<T>(a.eps));
  if (a.running_mean != nullptr) {
    update_running(&static_cast<T*>(a.running_mean)[c], &static_cast<T*>(a.running_var)[c], mean,
                   var, a.shape.count(), a.momentum);
  }
}

template <typename T>
__global__ void eval_stats_kernel(BatchNormForwardArgs a) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= a.shape.c) return;
  static_cast<T*>(a.save_mean)[c] = static_cast<const T*>(a.running_mean)[c];
  static_cast<T*>(a.save_invstd)[c] =
      T(1) / sqrt(static_cast<const T*>(a.running_var)[c] + static_cast<T>(a.eps));
}

template <typename T, typename I>
__global__ void normalize_kernel(const T* __restrict__ x, T* __restrict__ y,
                                 const T* __restrict__ mean, const T* __restrict__ invstd,
                                 const T* __restrict__ gamma, const T* __restrict__ beta,
                                 BatchNormShape s, bool relu) {
  const I total = static_cast<I>(s.n * s.c * s.hw), channels = static_cast<I>(s.c),
          hw = static_cast<I>(s.hw);
  for (const I i : grid_stride(total)) {
    const I c = (i / hw) % channels;
    const T v = batchnorm_element(x[i], mean[c], invstd[c], gamma, beta, c);
    y[i] = relu ? relu_element(v) : v;
  }
}

// Backward stage 1: Σg and Σg·xhat of one chunk of one channel (g gated by the forward's ReLU
// when there was one: Note [batch norm + relu]).
template <typename T, typename I>
__global__ void grad_partial_kernel(const T* __restrict__ x, const T* __restrict__ grad_y,
                                    const T* __restrict__ mean, const T* __restrict__ invstd,
                                    const T* __restrict__ gamma, const T* __restrict__ beta,
                                    bool relu, BatchNormShape s, Chunking ch,
                                    T* __restrict__ partials) {
  __shared__ T sums[kStatThreads], dots[kStatThreads];
  const int64_t c = blockIdx.y, chunk = blockIdx.x;
  const I begin = static_cast<I>(chunk * ch.length);
  const I end = static_cast<I>(min(s.count(), chunk * ch.length + ch.length));
  const I channels = static_cast<I>(s.c), hw = static_cast<I>(s.hw);
  T sum = 0, dot = 0;
  for (I k = begin + threadIdx.x; k < end; k += blockDim.x) {
    const I i = channel_offset<I>(k, static_cast<I>(c), channels, hw);
    const T g = relu_gated(grad_y[i], x[i], mean[c], invstd[c], gamma, beta, c, relu);
    sum += g;
    dot += g * (x[i] - mean[c]) * invstd[c];
  }
  sums[threadIdx.x] = sum;
  dots[threadIdx.x] = dot;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      sums[threadIdx.x] += sums[threadIdx.x + half];
      dots[threadIdx.x] += dots[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    partials[2 * (c * ch.chunks + chunk)] = sums[0];
    partials[2 * (c * ch.chunks + chunk) + 1] = dots[0];
  }
}

// Backward stage 2: per channel totals, into totals (2·C) and the γ/β gradients.
template <typename T>
__global__ void grad_final_kernel(const T* __restrict__ partials, T* __restrict__ totals,
                                  BatchNormBackwardArgs a, Chunking ch) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= a.shape.c) return;
  T sum = 0, dot = 0;
  for (int64_t chunk = 0; chunk < ch.chunks; ++chunk) {
    sum += partials[2 * (c * ch.chunks + chunk)];
    dot += partials[2 * (c * ch.chunks + chunk) + 1];
  }
  totals[2 * c] = sum;
  totals[2 * c + 1] = dot;
  if (a.grad_beta != nullptr) static_cast<T*>(a.grad_beta)[c] = sum;
  if (a.grad_gamma != nullptr) static_cast<T*>(a.grad_gamma)[c] = dot;
}

template <typename T, typename I>
__global__ void grad_input_kernel(const T* __restrict__ x, const T* __restrict__ g,
                                  const T* __restrict__ totals, BatchNormBackwardArgs a) {
  const BatchNormShape s = a.shape;
  const T* mean = static_cast<const T*>(a.mean);
  const T* invstd = static_cast<const T*>(a.invstd);
  const T* gamma = static_cast<const T*>(a.gamma);
  T* grad_x = static_cast<T*>(a.grad_x);
  const I total = static_cast<I>(s.n * s.c * s.hw), channels = static_cast<I>(s.c),
          hw = static_cast<I>(s.hw);
  const T count = static_cast<T>(s.count());
  for (const I i : grid_stride(total)) {
    const I c = (i / hw) % channels;
    const T gated =
        relu_gated(g[i], x[i], mean[c], invstd[c], gamma, static_cast<const T*>(a.beta), c, a.relu);
    grad_x[i] = batchnorm_backward_element(
        gated, x[i], mean[c], invstd[c], (gamma != nullptr ? gamma[c] : T(1)) * invstd[c],
        totals[2 * c] / count, totals[2 * c + 1] / count, a.training);
  }
}

unsigned channel_blocks(int64_t c) { return static_cast<unsigned>((c + kThreads - 1) / kThreads); }

// Calls f with a 32-bit index type when every offset of `s` (and a grid stride past the
// last one) fits in 31 bits, else with int64_t.
template <typename F>
void with_index_type(const BatchNormShape& s, F&& f) {
  if (s.n * s.c * s.hw < (int64_t{1} << 31)) {
    f(uint32_t{});
  } else {
    f(int64_t{});
  }
}

}  // namespace

void batchnorm_forward(const BatchNormForwardArgs& a, void* stream,
                       const ScratchAllocator& scratch) {
  const BatchNormShape& s = a.shape;
  TG_CHECK(a.pooled == nullptr,
           "batch_norm: pooling as the output is made is the CPU's (Note [batch norm + relu + "
           "pool]); CUDA runs batch_norm_relu and max_pool2d apart");
  if (s.c == 0) return;
  TG_CHECK(s.c <= 65535, "batch_norm: at most 65535 channels on CUDA, got ", s.c);
  const cudaStream_t st = as_stream(stream);
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (a.training) {
      const Chunking ch = chunking(s);
      ScratchBuffer partials(scratch, sizeof(T) * 3 * s.c * ch.chunks);
      with_index_type(s, [&](auto index) {
        moments_partial_kernel<T, decltype(index)>
            <<<dim3(unsigned(ch.chunks), unsigned(s.c)), kStatThreads, 0, st>>>(
                static_cast<const T*>(a.x), s, ch, partials.as<T>());
      });
      TG_CUDA_CHECK_LAUNCH();
      moments_final_kernel<T><<<channel_blocks(s.c), kThreads, 0, st>>>(partials.as<T>(), a, ch);
      TG_CUDA_CHECK_LAUNCH();
    } else {
      eval_stats_kernel<T><<<channel_blocks(s.c), kThreads, 0, st>>>(a);
      TG_CUDA_CHECK_LAUNCH();
    }
    const int64_t total = s.n * s.c * s.hw;
    if (total == 0) return;
    with_index_type(s, [&](auto index) {
      normalize_kernel<T, decltype(index)><<<grid_for(total), kThreads, 0, st>>>(
          static_cast<const T*>(a.x), static_cast<T*>(a.y), static_cast<const T*>(a.save_mean),
          static_cast<const T*>(a.save_invstd), static_cast<const T*>(a.gamma),
          static_cast<const T*>(a.beta), s, a.relu);
    });
    TG_CUDA_CHECK_LAUNCH();
  });
}

void batchnorm_backward(const BatchNormBackwardArgs& a, void* stream,
                        const ScratchAllocator& scratch) {
  const BatchNormShape& s = a.shape;
  TG_CHECK(a.pooled_grad == nullptr,
           "batch_norm: the pooled backward is the CPU's (Note [batch norm + relu + pool])");
  if (s.c == 0) return;
  TG_CHECK(s.c <= 65535, "batch_norm: at most 65535 channels on CUDA, got ", s.c);
  const cudaStream_t st = as_stream(stream);
  visit_float_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const Chunking ch = chunking(s);
    ScratchBuffer partials(scratch, sizeof(T) * 2 * s.c * ch.chunks);
    ScratchBuffer totals(scratch, sizeof(T) * 2 * s.c);
    with_index_type(s, [&](auto index) {
      grad_partial_kernel<T, decltype(index)>
          <<<dim3(unsigned(ch.chunks), unsigned(s.c)), kStatThreads, 0, st>>>(
              static_cast<const T*>(a.x), static_cast<const T*>(a.grad_y),
              static_cast<const T*>(a.mean), static_cast<const T*>(a.invstd),
              static_cast<const T*>(a.gamma), static_cast<const T*>(a.beta), a.relu, s, ch,
              partials.as<T>());
    });
    TG_CUDA_CHECK_LAUNCH();
    grad_final_kernel<T>
        <<<channel_blocks(s.c), kThreads, 0, st>>>(partials.as<T>(), totals.as<T>(), a, ch);
    TG_CUDA_CHECK_LAUNCH();
    const int64_t total = s.n * s.c * s.hw;
    if (a.grad_x == nullptr || total == 0) return;
    with_index_type(s, [&](auto index) {
      grad_input_kernel<T, decltype(index)><<<grid_for(total), kThreads, 0, st>>>(
          static_cast<const T*>(a.x), static_cast<const T*>(a.grad_y), totals.as<T>(), a);
    });
    TG_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tg::kernels::cuda
