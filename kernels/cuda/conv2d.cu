// CUDA launchers of conv2d (kernels/conv2d.h) through cuDNN; the CPU twin is
// kernels/cpu/conv2d.cpp. Each call describes the problem, takes the algorithm cuDNN's
// heuristics rank first among the deterministic ones (no benchmarking, so no
// synchronisation; Note [algorithm cache]), and runs it with a workspace from the
// stream-ordered pool.
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "tamegrad/kernels/conv2d.h"
#include "tamegrad/kernels/cuda/launch.h"

namespace tg::kernels::cuda {

namespace {

// The four cuDNN descriptors of one convolution, destroyed on scope exit.
class Descriptors {
 public:
  explicit Descriptors(const Conv2dArgs& a) {
    const Conv2dGeometry& g = a.g;
    const cudnnDataType_t type = a.dtype == DType::Float64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    TG_CUDA_CHECK(cudnnCreateTensorDescriptor(&x));
    TG_CUDA_CHECK(cudnnCreateTensorDescriptor(&y));
    TG_CUDA_CHECK(cudnnCreateFilterDescriptor(&w));
    TG_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    TG_CUDA_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, type, int(g.n), int(g.c_in),
                                             int(g.h), int(g.w)));
    TG_CUDA_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, type, int(g.n), int(g.c_out),
                                             int(g.out_h), int(g.out_w)));
    TG_CUDA_CHECK(cudnnSetFilter4dDescriptor(w, type, CUDNN_TENSOR_NCHW, int(g.c_out),
                                             int(g.c_in / g.groups), int(g.kh), int(g.kw)));
    TG_CUDA_CHECK(cudnnSetConvolution2dDescriptor(conv, int(g.pad_h), int(g.pad_w), int(g.stride_h),
                                                  int(g.stride_w), int(g.dil_h), int(g.dil_w),
                                                  CUDNN_CROSS_CORRELATION, type));
    TG_CUDA_CHECK(cudnnSetConvolutionGroupCount(conv, int(g.groups)));
    // FMA math keeps float32 in float32; the default math may use TF32 tensor cores.
    TG_CUDA_CHECK(
        cudnnSetConvolutionMathType(conv, a.allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  }
  ~Descriptors() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

  cudnnTensorDescriptor_t x{}, y{};
  cudnnFilterDescriptor_t w{};
  cudnnConvolutionDescriptor_t conv{};
};

// The first successful, deterministic algorithm of a heuristic ranking (else the first
// successful one).
template <typename Perf>
const Perf& pick(const std::vector<Perf>& ranked, int returned, const char* pass) {
  const Perf* fallback = nullptr;
  for (int i = 0; i < returned; ++i) {
    if (ranked[i].status != CUDNN_STATUS_SUCCESS) continue;
    if (ranked[i].determinism == CUDNN_DETERMINISTIC) return ranked[i];
    if (fallback == nullptr) fallback = &ranked[i];
  }
  TG_CHECK(fallback != nullptr, "conv2d: cuDNN offers no algorithm for the ", pass, " pass");
  return *fallback;
}

// cuDNN's scaling factors are double for double data, float otherwise.
struct Scale {
  explicit Scale(DType dtype, double value)
      : f(static_cast<float>(value)), d(value), dtype(dtype) {}
  const void* get() const { return dtype == DType::Float64 ? static_cast<const void*>(&d) : &f; }
  float f;
  double d;
  DType dtype;
};

// Note [algorithm cache]: cuDNN's heuristic query costs far more than the convolutions of
// a small network (an MNIST CNN step runs nine of them), and its answer depends only on
// the problem, the handle (one per device) and the math mode. The chosen algorithm and
// its workspace size are kept per (handle, pass, dtype, TF32, geometry), so each problem
// is ranked once per process.
struct Choice {
  int algo;
  size_t workspace;
};

template <typename Query>
Choice cached_choice(cudnnHandle_t h, int pass, const Conv2dArgs& a, Query query) {
  using Key = std::tuple<cudnnHandle_t, int, int, bool, std::vector<int64_t>>;
  static std::mutex mutex;
  static std::map<Key, Choice> cache;
  const Conv2dGeometry& g = a.g;
  Key key{h,
          pass,
          static_cast<int>(a.dtype),
          a.allow_tf32,
          {g.n, g.c_in, g.h, g.w, g.c_out, g.kh, g.kw, g.stride_h, g.stride_w, g.pad_h, g.pad_w,
           g.dil_h, g.dil_w, g.groups}};
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  const Choice choice = query();
  std::lock_guard<std::mutex> lock(mutex);
  cache.emplace(std::move(key), choice);
  return choice;
}

cudnnHandle_t bind(void* handle, void* stream) {
  auto h = static_cast<cudnnHandle_t>(handle);
  TG_CUDA_CHECK(cudnnSetStream(h, as_stream(stream)));
  return h;
}

bool empty_problem(const Conv2dGeometry& g) {
  return g.n == 0 || g.c_out == 0 || g.out_h * g.out_w == 0;
}

}  // namespace

void conv2d_forward(const Conv2dArgs& a, void* stream, void* cudnn_handle,
                    const ScratchAllocator& scratch) {
  check_conv2d_geometry(a.g);
  if (empty_problem(a.g)) return;
  cudnnHandle_t h = bind(cudnn_handle, stream);
  Descriptors desc(a);
  const Choice algo = cached_choice(h, 0, a, [&] {
    std::vector<cudnnConvolutionFwdAlgoPerf_t> ranked(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
    int returned = 0;
    TG_CUDA_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
        h, desc.x, desc.w, desc.conv, desc.y, int(ranked.size()), &returned, ranked.data()));
    const auto& best = pick(ranked, returned, "forward");
    return Choice{static_cast<int>(best.algo), best.memory};
  });
  ScratchBuffer ws(scratch, algo.workspace);
  const Scale one(a.dtype, 1.0), zero(a.dtype, 0.0);
  TG_CUDA_CHECK(cudnnConvolutionForward(h, one.get(), desc.x, a.x, desc.w, a.weight, desc.conv,
                                        static_cast<cudnnConvolutionFwdAlgo_t>(algo.algo),
                                        ws.data(), ws.bytes(), zero.get(), desc.y, a.out));
}

void conv2d_backward_data(const Conv2dArgs& a, void* stream, void* cudnn_handle,
                          const ScratchAllocator& scratch) {
  check_conv2d_geometry(a.g);
  if (empty_problem(a.g)) {
    TG_CUDA_CHECK(cudaMemsetAsync(
        a.out, 0, a.g.n * a.g.c_in * a.g.h * a.g.w * (a.dtype == DType::Float64 ? 8 : 4),
        as_stream(stream)));
    return;
  }
  cudnnHandle_t h = bind(cudnn_handle, stream);
  Descriptors desc(a);
  const Choice algo = cached_choice(h, 1, a, [&] {
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> ranked(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
    int returned = 0;
    TG_CUDA_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
        h, desc.w, desc.y, desc.conv, desc.x, int(ranked.size()), &returned, ranked.data()));
    const auto& best = pick(ranked, returned, "backward-data");
    return Choice{static_cast<int>(best.algo), best.memory};
  });
  ScratchBuffer ws(scratch, algo.workspace);
  const Scale one(a.dtype, 1.0), zero(a.dtype, 0.0);
  TG_CUDA_CHECK(cudnnConvolutionBackwardData(h, one.get(), desc.w, a.weight, desc.y, a.grad_out,
                                             desc.conv,
                                             static_cast<cudnnConvolutionBwdDataAlgo_t>(algo.algo),
                                             ws.data(), ws.bytes(), zero.get(), desc.x, a.out));
}

void conv2d_backward_filter(const Conv2dArgs& a, void* stream, void* cudnn_handle,
                            const ScratchAllocator& scratch) {
  check_conv2d_geometry(a.g);
  if (empty_problem(a.g)) {
    TG_CUDA_CHECK(cudaMemsetAsync(
        a.out, 0,
        a.g.c_out * (a.g.c_in / a.g.groups) * a.g.kh * a.g.kw * (a.dtype == DType::Float64 ? 8 : 4),
        as_stream(stream)));
    return;
  }
  cudnnHandle_t h = bind(cudnn_handle, stream);
  Descriptors desc(a);
  const Choice algo = cached_choice(h, 2, a, [&] {
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> ranked(
        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
    int returned = 0;
    TG_CUDA_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
        h, desc.x, desc.y, desc.conv, desc.w, int(ranked.size()), &returned, ranked.data()));
    const auto& best = pick(ranked, returned, "backward-filter");
    return Choice{static_cast<int>(best.algo), best.memory};
  });
  ScratchBuffer ws(scratch, algo.workspace);
  const Scale one(a.dtype, 1.0), zero(a.dtype, 0.0);
  TG_CUDA_CHECK(
      cudnnConvolutionBackwardFilter(h, one.get(), desc.x, a.x, desc.y, a.grad_out, desc.conv,
                                     static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo.algo),
                                     ws.data(), ws.bytes(), zero.get(), desc.w, a.out));
}

}  // namespace tg::kernels::cuda
