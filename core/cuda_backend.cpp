// The CUDA backend: stream, handles, the stream-ordered memory pool and copies, through
// the CUDA runtime, cuBLAS and cuDNN. Every call is checked (TG_CUDA_CHECK).
#include "core/cuda_backend.h"

#include <cstdint>
#include <sstream>

#include "core/context.h"
#include "kernels/cuda/launch.h"

namespace tg::cuda_backend {

bool compiled() { return true; }

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver or no GPU: clear the sticky-free error
    return 0;
  }
  return count;
}

void set_device(int device) { TG_CUDA_CHECK(cudaSetDevice(device)); }

void* create_stream(int device) {
  TG_CUDA_CHECK(cudaSetDevice(device));
  // Freed blocks stay in the device's pool for reuse instead of going back to the driver
  // at every synchronisation.
  cudaMemPool_t pool;
  TG_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
  uint64_t threshold = UINT64_MAX;
  TG_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
  cudaStream_t stream;
  TG_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return stream;
}

void* create_cublas(int device, void* stream) {
  TG_CUDA_CHECK(cudaSetDevice(device));
  cublasHandle_t handle;
  TG_CUDA_CHECK(cublasCreate(&handle));
  TG_CUDA_CHECK(cublasSetStream(handle, static_cast<cudaStream_t>(stream)));
  return handle;
}

void* create_cudnn(int device, void* stream) {
  TG_CUDA_CHECK(cudaSetDevice(device));
  cudnnHandle_t handle;
  TG_CUDA_CHECK(cudnnCreate(&handle));
  TG_CUDA_CHECK(cudnnSetStream(handle, static_cast<cudaStream_t>(stream)));
  return handle;
}

void* allocate(int device, void* stream, size_t bytes) {
  TG_CUDA_CHECK(cudaSetDevice(device));
  void* ptr = nullptr;
  const cudaError_t status = cudaMallocAsync(&ptr, bytes, static_cast<cudaStream_t>(stream));
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    TG_THROW("out of memory on cuda:", device, ": could not allocate ", bytes, " bytes (",
             cudaGetErrorString(status), ")");
  }
  return ptr;
}

void deallocate(int device, void* stream, void* ptr) noexcept {
  // A destructor cannot throw: a failure here means the context is already broken, and
  // the next checked call reports it.
  if (cudaSetDevice(device) == cudaSuccess) {
    (void)cudaFreeAsync(ptr, static_cast<cudaStream_t>(stream));
  }
}

void copy_bytes(void* dst, const Device& dst_device, const void* src, const Device& src_device,
                size_t bytes) {
  if (bytes == 0) return;
  // Queue on the stream of the CUDA side (the destination's when both are CUDA, after the
  // source's stream has finished writing).
  const Device& queue_device = dst_device.is_cuda() ? dst_device : src_device;
  cudaStream_t stream = static_cast<cudaStream_t>(context(queue_device).stream());
  if (src_device.is_cuda() && dst_device.is_cuda() && src_device != dst_device) {
    context(src_device).synchronize();
  }
  TG_CUDA_CHECK(cudaSetDevice(queue_device.index()));
  TG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream));
  if (dst_device.is_cpu()) TG_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void synchronize(int device, void* stream) {
  TG_CUDA_CHECK(cudaSetDevice(device));
  TG_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
}

std::string describe(int device) {
  cudaDeviceProp prop;
  TG_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  std::ostringstream os;
  os << prop.name << ", sm_" << prop.major << prop.minor << ", " << prop.multiProcessorCount
     << " SMs, " << static_cast<double>(prop.totalGlobalMem) / (1ull << 30) << " GiB";
  return os.str();
}

std::string library_versions() {
  int runtime = 0;
  (void)cudaRuntimeGetVersion(&runtime);
  int cublas = 0;
  (void)cublasGetProperty(MAJOR_VERSION, &cublas);
  const size_t cudnn = cudnnGetVersion();  // major·10000 + minor·100 + patch since cuDNN 9
  std::ostringstream os;
  os << "CUDA runtime " << runtime / 1000 << "." << (runtime % 1000) / 10 << ", cuBLAS "
     << cublas << ".x, cuDNN " << cudnn / 10000 << "." << (cudnn % 10000) / 100 << "." << cudnn % 100;
  return os.str();
}

}  // namespace tg::cuda_backend
