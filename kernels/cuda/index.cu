// CUDA launchers of the index ops (kernels/index.h); the CPU twin is kernels/cpu/index.cpp.
// One thread per output element, grid-stride.
#include "../index.h"
#include "launch.h"

namespace tg::kernels::cuda {

namespace {

template <typename T>
struct Gather {
  __device__ static T at(const GatherArgs& a, int64_t p) { return gather_element<T>(a, p); }
};
template <typename T>
struct ScatterAdd {
  __device__ static T at(const ScatterAddArgs& a, int64_t p) {
    return scatter_add_element<T>(a, p);
  }
};
template <typename T>
struct IndexSelect {
  __device__ static T at(const IndexSelectArgs& a, int64_t p) {
    return index_select_element<T>(a, p);
  }
};
template <typename T>
struct IndexAdd {
  __device__ static T at(const IndexAddArgs& a, int64_t p) { return index_add_element<T>(a, p); }
};
template <typename T>
struct OneHot {
  __device__ static T at(const OneHotArgs& a, int64_t p) { return one_hot_element<T>(a, p); }
};

template <template <typename> class Op, typename T, typename Args>
__global__ void index_kernel(Args args, int64_t numel) {
  T* __restrict__ out = static_cast<T*>(args.out);
  for (const int64_t p : grid_stride(numel)) {
    out[p] = Op<T>::at(args, p);
  }
}

// `any_dtype` as in the CPU twin: gather and index_select copy every dtype.
template <template <typename> class Op, bool any_dtype = false, typename Args>
void launch(const Args& args, int64_t numel, void* stream) {
  if (numel == 0) return;
  const auto run = [&](auto tag) {
    using T = decltype(tag);
    index_kernel<Op, T, Args><<<grid_for(numel), kThreads, 0, as_stream(stream)>>>(args, numel);
    TG_CUDA_CHECK_LAUNCH();
  };
  if constexpr (any_dtype) {
    visit_storage_dtype(args.dtype, run);
  } else {
    visit_float_dtype(args.dtype, run);
  }
}

}  // namespace

void gather(const GatherArgs& args, void* stream) {
  launch<Gather, true>(args, args.numel, stream);
}

void scatter_add(const ScatterAddArgs& args, void* stream) {
  launch<ScatterAdd>(args, args.numel, stream);
}

void index_select(const IndexSelectArgs& args, void* stream) {
  launch<IndexSelect, true>(args, args.outer * args.index_count * args.inner, stream);
}

void index_add(const IndexAddArgs& args, void* stream) {
  launch<IndexAdd>(args, args.outer * args.out_dim_size * args.inner, stream);
}

void one_hot(const OneHotArgs& args, void* stream) {
  launch<OneHot>(args, args.count * args.classes, stream);
}

}  // namespace tg::kernels::cuda
