// CUDA launchers of conv2d (kernels/conv2d.h) through cuDNN; the CPU twin is
// kernels/cpu/conv2d.cpp. Each problem is described once and its algorithm is the one
// cuDNN's heuristics rank first among the deterministic ones (no benchmarking, so no
// synchronisation; Note [algorithm cache]); each call runs it with a workspace from the
// stream-ordered pool. The bias (Note [conv2d bias]): cudnnAddTensor after the forward,
// cudnnConvolutionBackwardBias beside the filter pass. Half operands (autocast, Note [autocast] in
// core/autocast.h): cuDNN convolves bfloat16 or float16 tensors with float32 accumulation on the
// tensor cores and writes the half dtype, which is then widened into the float32 output.
#include <memory>
#include <tuple>
#include <vector>

#include "../conv2d.h"
#include "../copy.h"
#include "../plan_cache.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

// One cuDNN descriptor, destroyed with its holder: Descriptors made half-way when a call
// fails free what they made.
template <typename T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class Descriptor {
 public:
  Descriptor() { TG_CUDA_CHECK(Create(&d_)); }
  ~Descriptor() { (void)Destroy(d_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  operator T() const { return d_; }  // NOLINT: passed to cuDNN as the raw descriptor

 private:
  T d_{};
};
using TensorDesc =
    Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDesc =
    Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvDesc = Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                            cudnnDestroyConvolutionDescriptor>;

// The cuDNN descriptors of one convolution: its four, and the bias's two (Note [conv2d bias]):
// the result (N, C_out, out_h, out_w) and the bias (1, C_out, 1, 1), both of the result's
// dtype (float64, else float32: half operands give float32 results).
class Descriptors {
 public:
  explicit Descriptors(const Conv2dArgs& a) {
    const Conv2dGeometry& g = a.g;
    const cudnnDataType_t type = a.dtype == DType::Float64    ? CUDNN_DATA_DOUBLE
                                 : a.dtype == DType::BFloat16 ? CUDNN_DATA_BFLOAT16
                                 : a.dtype == DType::Float16  ? CUDNN_DATA_HALF
                                                              : CUDNN_DATA_FLOAT;
    // Half data accumulates in float32 (cuDNN's "pseudo half" configuration).
    const cudnnDataType_t compute = is_half(a.dtype) ? CUDNN_DATA_FLOAT : type;
    TG_CUDA_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, type, int(g.n), int(g.c_in),
                                             int(g.h), int(g.w)));
    TG_CUDA_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, type, int(g.n), int(g.c_out),
                                             int(g.out_h), int(g.out_w)));
    TG_CUDA_CHECK(cudnnSetFilter4dDescriptor(w, type, CUDNN_TENSOR_NCHW, int(g.c_out),
                                             int(g.c_in / g.groups), int(g.kh), int(g.kw)));
    TG_CUDA_CHECK(cudnnSetConvolution2dDescriptor(conv, int(g.pad_h), int(g.pad_w), int(g.stride_h),
                                                  int(g.stride_w), int(g.dil_h), int(g.dil_w),
                                                  CUDNN_CROSS_CORRELATION, compute));
    TG_CUDA_CHECK(cudnnSetConvolutionGroupCount(conv, int(g.groups)));
    // FMA math keeps float32 in float32; the default math may use TF32 tensor cores (and
    // uses them for half data).
    TG_CUDA_CHECK(cudnnSetConvolutionMathType(
        conv, a.allow_tf32 || is_half(a.dtype) ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
    const cudnnDataType_t result_type =
        a.dtype == DType::Float64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    TG_CUDA_CHECK(cudnnSetTensor4dDescriptor(result, CUDNN_TENSOR_NCHW, result_type, int(g.n),
                                             int(g.c_out), int(g.out_h), int(g.out_w)));
    TG_CUDA_CHECK(
        cudnnSetTensor4dDescriptor(bias, CUDNN_TENSOR_NCHW, result_type, 1, int(g.c_out), 1, 1));
  }

  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;
  TensorDesc result, bias;
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
// the problem, the handle and the math mode. So does describing the problem: four
// descriptors made, set and destroyed per call (six with a bias) were host work of the same
// order as the kernels. A plan per (device, handle generation, dtype, TF32, geometry) keeps the
// descriptors and, per pass, the chosen algorithm and its workspace size, so each problem is
// described once and ranked once per pass. The generation, not the handle's address, names
// the handle: a released handle's address can come back for a new one. The plans live in a
// bounded least-recently-used cache (kernels/plan_cache.h; the batch size is in the key, so
// a program of many shapes would otherwise grow it without end); a plan in use is held by
// its call, so eviction never pulls descriptors from under a running call. cuDNN only
// reads descriptors while a call runs, so calls on other threads and streams share them.
struct Choice {
  int algo;
  size_t workspace;
};

enum Pass { kForward = 0, kBackwardData = 1, kBackwardFilter = 2 };

struct Plan {
  explicit Plan(const Conv2dArgs& a) : desc(a) {}
  Descriptors desc;
  Choice choice[3]{};
  bool ranked[3]{};
};

using PlanKey = std::tuple<int, uint64_t, int, bool, std::vector<int64_t>>;
constexpr size_t kPlanCapacity = 512;

PlanCache<PlanKey, Plan>& plan_cache() {
  static PlanCache<PlanKey, Plan> cache(kPlanCapacity);
  return cache;
}

// The plan of `a` with `pass` ranked; `rank(desc)` returns the Choice for `pass` and runs
// once per plan and pass.
template <typename Rank>
std::shared_ptr<Plan> planned(const CudnnHandle& cudnn, Pass pass, const Conv2dArgs& a, Rank rank) {
  const Conv2dGeometry& g = a.g;
  const PlanKey key{cudnn.device,
                    cudnn.generation,
                    static_cast<int>(a.dtype),
                    a.allow_tf32,
                    {g.n, g.c_in, g.h, g.w, g.c_out, g.kh, g.kw, g.stride_h, g.stride_w, g.pad_h,
                     g.pad_w, g.dil_h, g.dil_w, g.groups}};
  return plan_cache().get(
      key, [&] { return std::make_shared<Plan>(a); },
      [&](Plan& plan) {
        if (plan.ranked[pass]) return;
        plan.choice[pass] = rank(plan.desc);
        plan.ranked[pass] = true;
      });
}

cudnnHandle_t bind(const CudnnHandle& cudnn, void* stream) {
  auto h = static_cast<cudnnHandle_t>(cudnn.handle);
  TG_CUDA_CHECK(cudnnSetStream(h, as_stream(stream)));
  return h;
}

bool empty_problem(const Conv2dGeometry& g) {
  return g.n == 0 || g.c_out == 0 || g.out_h * g.out_w == 0;
}

// What differs between the three passes: cuDNN's ranking query and its call, and what an
// empty problem leaves to zero (its output's bytes: nothing for the forward pass, whose
// output then has no elements).
template <Pass P>
struct PassCalls;

template <>
struct PassCalls<kForward> {
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  static constexpr int kAlgorithms = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  static constexpr const char* kName = "forward";
  static cudnnStatus_t rank(cudnnHandle_t h, const Descriptors& d, int* returned, Perf* perf) {
    return cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, kAlgorithms, returned,
                                                  perf);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Conv2dArgs& a, const Descriptors& d, int algo,
                           void* ws, size_t ws_bytes, const void* one, const void* zero) {
    return cudnnConvolutionForward(h, one, d.x, a.x, d.w, a.weight, d.conv,
                                   static_cast<cudnnConvolutionFwdAlgo_t>(algo), ws, ws_bytes, zero,
                                   d.y, a.out);
  }
  static int64_t empty_elements(const Conv2dGeometry&) { return 0; }
  static int64_t output_elements(const Conv2dGeometry& g) {
    return g.n * g.c_out * g.out_h * g.out_w;
  }
};

template <>
struct PassCalls<kBackwardData> {
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  static constexpr int kAlgorithms = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  static constexpr const char* kName = "backward-data";
  static cudnnStatus_t rank(cudnnHandle_t h, const Descriptors& d, int* returned, Perf* perf) {
    return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, kAlgorithms,
                                                       returned, perf);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Conv2dArgs& a, const Descriptors& d, int algo,
                           void* ws, size_t ws_bytes, const void* one, const void* zero) {
    return cudnnConvolutionBackwardData(h, one, d.w, a.weight, d.y, a.grad_out, d.conv,
                                        static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), ws,
                                        ws_bytes, zero, d.x, a.out);
  }
  static int64_t empty_elements(const Conv2dGeometry& g) { return g.n * g.c_in * g.h * g.w; }
  static int64_t output_elements(const Conv2dGeometry& g) { return empty_elements(g); }
};

template <>
struct PassCalls<kBackwardFilter> {
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  static constexpr int kAlgorithms = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  static constexpr const char* kName = "backward-filter";
  static cudnnStatus_t rank(cudnnHandle_t h, const Descriptors& d, int* returned, Perf* perf) {
    return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, kAlgorithms,
                                                         returned, perf);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Conv2dArgs& a, const Descriptors& d, int algo,
                           void* ws, size_t ws_bytes, const void* one, const void* zero) {
    return cudnnConvolutionBackwardFilter(h, one, d.x, a.x, d.y, a.grad_out, d.conv,
                                          static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), ws,
                                          ws_bytes, zero, d.w, a.out);
  }
  static int64_t empty_elements(const Conv2dGeometry& g) {
    return g.c_out * (g.c_in / g.groups) * g.kh * g.kw;
  }
  static int64_t output_elements(const Conv2dGeometry& g) { return empty_elements(g); }
};

// One pass: an empty problem zeroes the output it owns (and returns no plan); otherwise the
// plan's algorithm for this pass (ranked once: Note [algorithm cache]) runs with its workspace
// from `scratch`, and the plan is returned.
template <Pass P>
std::shared_ptr<Plan> run_pass(const Conv2dArgs& a, void* stream, const CudnnHandle& cudnn,
                               const ScratchAllocator& scratch) {
  using Calls = PassCalls<P>;
  check_conv2d_geometry(a.g);
  TG_CHECK(!a.blocked && !a.x_blocked,
           "conv2d: the blocked layout is the CPU's (Note [conv block])");
  if (empty_problem(a.g)) {
    const int64_t elements = Calls::empty_elements(a.g);
    if (elements > 0) {
      TG_CUDA_CHECK(cudaMemsetAsync(a.out, 0, elements * (a.dtype == DType::Float64 ? 8 : 4),
                                    as_stream(stream)));
    }
    return nullptr;
  }
  cudnnHandle_t h = bind(cudnn, stream);
  const std::shared_ptr<Plan> plan = planned(cudnn, P, a, [&](const Descriptors& desc) {
    std::vector<typename Calls::Perf> ranked(Calls::kAlgorithms);
    int returned = 0;
    TG_CUDA_CHECK(Calls::rank(h, desc, &returned, ranked.data()));
    const auto& best = pick(ranked, returned, Calls::kName);
    return Choice{static_cast<int>(best.algo), best.memory};
  });
  const Choice choice = plan->choice[P];
  ScratchBuffer ws(scratch, choice.workspace);
  const Scale one(a.dtype, 1.0), zero(a.dtype, 0.0);
  if (!is_half(a.dtype)) {
    TG_CUDA_CHECK(
        Calls::run(h, a, plan->desc, choice.algo, ws.data(), ws.bytes(), one.get(), zero.get()));
    return plan;
  }
  // Half operands: cuDNN writes the half dtype into `staged`, widened into the float32 output.
  const int64_t count = Calls::output_elements(a.g);
  ScratchBuffer staged(scratch, static_cast<size_t>(count) * 2);
  Conv2dArgs into_staged = a;
  into_staged.out = staged.data();
  TG_CUDA_CHECK(Calls::run(h, into_staged, plan->desc, choice.algo, ws.data(), ws.bytes(),
                           one.get(), zero.get()));
  CopyArgs widen{staged.data(), a.dtype, a.out, DType::Float32, count, 1, {count}, {1}, {1}};
  copy(widen, stream);
  return plan;
}

}  // namespace

void conv2d_forward(const Conv2dArgs& a, void* stream, const CudnnHandle& cudnn,
                    const ScratchAllocator& scratch) {
  const std::shared_ptr<Plan> plan = run_pass<kForward>(a, stream, cudnn, scratch);
  if (a.bias == nullptr || plan == nullptr) return;
  const Scale one(a.dtype, 1.0);
  TG_CUDA_CHECK(cudnnAddTensor(bind(cudnn, stream), one.get(), plan->desc.bias, a.bias, one.get(),
                               plan->desc.result, a.out));
}

void conv2d_backward_data(const Conv2dArgs& a, void* stream, const CudnnHandle& cudnn,
                          const ScratchAllocator& scratch) {
  run_pass<kBackwardData>(a, stream, cudnn, scratch);
}

void conv2d_backward_filter(const Conv2dArgs& a, void* stream, const CudnnHandle& cudnn,
                            const ScratchAllocator& scratch) {
  TG_CHECK(a.grad_bias == nullptr || !is_half(a.dtype),
           "conv2d: the bias's gradient is summed from the float32 output gradient, not from "
           "half operands (Note [conv2d bias])");
  const std::shared_ptr<Plan> plan = run_pass<kBackwardFilter>(a, stream, cudnn, scratch);
  if (a.grad_bias == nullptr || a.g.c_out == 0) return;
  if (plan == nullptr) {  // an empty problem: nothing to sum
    TG_CUDA_CHECK(
        cudaMemsetAsync(a.grad_bias, 0, a.g.c_out * element_size(a.dtype), as_stream(stream)));
    return;
  }
  const Scale one(a.dtype, 1.0), zero(a.dtype, 0.0);
  TG_CUDA_CHECK(cudnnConvolutionBackwardBias(bind(cudnn, stream), one.get(), plan->desc.result,
                                             a.grad_out, zero.get(), plan->desc.bias, a.grad_bias));
}

size_t conv2d_plan_count() { return plan_cache().size(); }
size_t conv2d_plan_capacity() { return plan_cache().capacity(); }

}  // namespace tg::kernels::cuda
