// Per-device contexts: created on first use, one per device, kept for the process.
#include "core/context.h"

#include <map>

#include "core/cuda_backend.h"
#include "core/error.h"

namespace tg {

DeviceContext::DeviceContext(Device device) : device_(device) {
  check_device_usable(device);
  if (device.is_cuda()) stream_ = cuda_backend::create_stream(device.index());
}

void* DeviceContext::cublas_handle() {
  TG_CHECK(device_.is_cuda(), "cublas_handle: ", device_, " is not a CUDA device");
  std::lock_guard<std::mutex> lock(handle_mutex_);
  if (cublas_ == nullptr) cublas_ = cuda_backend::create_cublas(device_.index(), stream_);
  return cublas_;
}

void* DeviceContext::cudnn_handle() {
  TG_CHECK(device_.is_cuda(), "cudnn_handle: ", device_, " is not a CUDA device");
  std::lock_guard<std::mutex> lock(handle_mutex_);
  if (cudnn_ == nullptr) cudnn_ = cuda_backend::create_cudnn(device_.index(), stream_);
  return cudnn_;
}

void DeviceContext::synchronize() const {
  if (device_.is_cuda()) cuda_backend::synchronize(device_.index(), stream_);
}

DeviceContext& context(const Device& device) {
  // Contexts live until the process ends and are deliberately never destroyed: their
  // streams and handles would otherwise be torn down after the CUDA runtime at exit.
  static std::mutex mutex;
  static auto* contexts = new std::map<std::pair<int, int>, DeviceContext*>();
  std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_pair(static_cast<int>(device.type()), device.index());
  auto found = contexts->find(key);
  if (found != contexts->end()) return *found->second;
  auto* created = new DeviceContext(device);  // throws, leaving nothing behind
  contexts->emplace(key, created);
  return *created;
}

void manual_seed(uint64_t seed) {
  context(Device::cpu()).generator().manual_seed(seed);
  for (int i = 0; i < cuda_device_count(); ++i) context(Device::cuda(i)).generator().manual_seed(seed);
}

}  // namespace tg
