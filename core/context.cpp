// Per-device contexts: created on first use, one per device, kept for the process.
//
// Note [context lifetime]
// Contexts are never destroyed, so their streams outlive every tensor (a static tensor's
// storage is freed on its context's stream during exit). The cuBLAS and cuDNN handles,
// which hold device memory of their own, are released by an exit handler registered when
// the first handle is made: that is after the CUDA runtime initialised and registered its
// own teardown, so ours runs first (exit handlers run in reverse order of registration),
// and leak checkers see nothing left behind.
#include "context.h"

#include <atomic>

#include <cstdlib>
#include <map>

#include "../foundation/error.h"
#include "cuda_backend.h"
#include "cuda_graph.h"

namespace tg {

DeviceContext::DeviceContext(Device device) : device_(device) {
  check_device_usable(device);
  if (device.is_cuda()) stream_ = cuda_backend::create_stream(device.index());
}

namespace {

std::mutex& contexts_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Every context made so far, by (device type, index); never destroyed.
std::map<std::pair<int, int>, DeviceContext*>& contexts() {
  static auto* all = new std::map<std::pair<int, int>, DeviceContext*>();
  return *all;
}

void release_all_library_handles() {
  std::lock_guard<std::mutex> lock(contexts_mutex());
  for (auto& entry : contexts()) entry.second->release_library_handles();
}

// Registers release_all_library_handles once, after the first handle (so after the CUDA
// runtime's own exit handler: Note [context lifetime]).
void release_handles_at_exit() {
  static const bool registered = std::atexit(release_all_library_handles) == 0;
  (void)registered;
}

}  // namespace

void* DeviceContext::cublas_handle() {
  TG_CHECK(device_.is_cuda(), "cublas_handle: ", device_, " is not a CUDA device");
  std::lock_guard<std::mutex> lock(handle_mutex_);
  if (cublas_ == nullptr) {
    cublas_ = cuda_backend::create_cublas(device_.index(), stream_);
    release_handles_at_exit();
  }
  return cublas_;
}

void* DeviceContext::cudnn_handle() {
  TG_CHECK(device_.is_cuda(), "cudnn_handle: ", device_, " is not a CUDA device");
  std::lock_guard<std::mutex> lock(handle_mutex_);
  if (cudnn_ == nullptr) {
    static std::atomic<uint64_t> generations{0};
    cudnn_ = cuda_backend::create_cudnn(device_.index(), stream_);
    cudnn_generation_ = ++generations;
    release_handles_at_exit();
  }
  return cudnn_;
}

uint64_t DeviceContext::cudnn_generation() {
  cudnn_handle();
  std::lock_guard<std::mutex> lock(handle_mutex_);
  return cudnn_generation_;
}

void DeviceContext::release_library_handles() noexcept {
  std::lock_guard<std::mutex> lock(handle_mutex_);
  if (cublas_ != nullptr) cuda_backend::destroy_cublas(device_.index(), cublas_);
  if (cudnn_ != nullptr) cuda_backend::destroy_cudnn(device_.index(), cudnn_);
  cublas_ = cudnn_ = nullptr;
}

RandomState DeviceContext::reserve_random(Generator& generator) {
  return capturing_graph_ != nullptr ? capturing_graph_->reserve(generator) : generator.reserve();
}

void DeviceContext::synchronize() const {
  if (device_.is_cuda()) cuda_backend::synchronize(device_.index(), stream_);
}

DeviceContext& context(const Device& device) {
  std::lock_guard<std::mutex> lock(contexts_mutex());
  const auto key = std::make_pair(static_cast<int>(device.type()), device.index());
  auto found = contexts().find(key);
  if (found != contexts().end()) return *found->second;
  auto* created = new DeviceContext(device);  // throws, leaving nothing behind
  contexts().emplace(key, created);
  return *created;
}

void manual_seed(uint64_t seed) {
  context(Device::cpu()).generator().manual_seed(seed);
  for (int i = 0; i < cuda_device_count(); ++i)
    context(Device::cuda(i)).generator().manual_seed(seed);
}

}  // namespace tg
