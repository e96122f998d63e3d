// CudaGraph (core/cuda_graph.h): capture through the CUDA backend, random offsets rebased
// before each replay (Note [random numbers in CUDA graphs]).
#include "cuda_graph.h"

#include "context.h"
#include "cuda_backend.h"
#include "factory.h"

namespace tg {

CudaGraph::CudaGraph(Device device) : device_(device) {
  TG_CHECK(device.is_cuda(), "CudaGraph: graphs capture CUDA work; got ", device);
  check_device_usable(device);
  offset_bases_ = zeros({kMaxGenerators}, TensorOptions(DType::Int64).device(device));
}

CudaGraph::~CudaGraph() {
  discard_capture();
  if (graph_ != nullptr) cuda_backend::destroy_graph(graph_);
}

void CudaGraph::discard_capture() noexcept {
  if (!capturing_) return;
  DeviceContext& ctx = context(device_);
  ctx.set_capturing_graph(nullptr);
  capturing_ = false;
  try {
    void* partial = cuda_backend::end_capture(device_.index(), ctx.stream());
    cuda_backend::destroy_graph(partial);
  } catch (const Error&) {
    // An invalidated capture has nothing to keep.
  }
}

void CudaGraph::capture_begin() {
  TG_CHECK(!capturing_, "CudaGraph: capture_begin while already capturing");
  DeviceContext& ctx = context(device_);
  TG_CHECK(ctx.capturing_graph() == nullptr, "CudaGraph: another graph is capturing ", device_);
  if (graph_ != nullptr) {
    cuda_backend::destroy_graph(graph_);
    graph_ = nullptr;
  }
  drawn_.clear();
  cuda_backend::begin_capture(device_.index(), ctx.stream());
  ctx.set_capturing_graph(this);
  capturing_ = true;
}

void CudaGraph::capture_end() {
  TG_CHECK(capturing_, "CudaGraph: capture_end without capture_begin");
  DeviceContext& ctx = context(device_);
  ctx.set_capturing_graph(nullptr);
  capturing_ = false;
  graph_ = cuda_backend::end_capture(device_.index(), ctx.stream());
}

void CudaGraph::replay() {
  TG_CHECK(graph_ != nullptr, "CudaGraph: replay before a capture ended");
  if (!drawn_.empty()) {
    std::vector<int64_t> bases(kMaxGenerators, 0);
    for (size_t i = 0; i < drawn_.size(); ++i) {
      bases[i] = static_cast<int64_t>(drawn_[i].generator->reserve(drawn_[i].count).offset);
    }
    offset_bases_.copy_(from_vector(bases, {kMaxGenerators}));  // queued before the launch
  }
  DeviceContext& ctx = context(device_);
  cuda_backend::launch_graph(device_.index(), ctx.stream(), graph_);
}

RandomState CudaGraph::reserve(Generator& generator) {
  TG_ASSERT(capturing_, "CudaGraph::reserve outside a capture");
  size_t index = 0;
  while (index < drawn_.size() && drawn_[index].generator != &generator) ++index;
  if (index == drawn_.size()) {
    TG_CHECK(drawn_.size() < kMaxGenerators,
             "CudaGraph: random ops in one graph may draw from at most ", kMaxGenerators,
             " generators");
    drawn_.push_back({&generator, 0});
  }
  const uint64_t offset = drawn_[index].count++;
  const auto* bases = reinterpret_cast<const uint64_t*>(offset_bases_.data_ptr<int64_t>());
  return {generator.seed(), offset, bases + index};
}

}  // namespace tg
