// The CUDA backend: stream, handles, the stream-ordered memory pool and copies, through
// the CUDA runtime, cuBLAS and cuDNN. Every call is checked (TG_CUDA_CHECK).
#include "cuda_backend.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "../foundation/cuda_check.h"
#include "context.h"

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

// Every CUDA op calls this (TG_ON_DEVICE): asking is cheaper than switching, and the
// device is almost always current already.
void set_device(int device) {
  int current = -1;
  if (cudaGetDevice(&current) == cudaSuccess && current == device) return;
  TG_CUDA_CHECK(cudaSetDevice(device));
}

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

void destroy_cublas(int device, void* handle) noexcept {
  if (cudaSetDevice(device) == cudaSuccess)
    (void)cublasDestroy(static_cast<cublasHandle_t>(handle));
}

void destroy_cudnn(int device, void* handle) noexcept {
  if (cudaSetDevice(device) == cudaSuccess) (void)cudnnDestroy(static_cast<cudnnHandle_t>(handle));
}

namespace {
// The device's memory in bytes (cudaGetDeviceProperties is slow: asked once per device).
size_t device_memory(int device) {
  static std::mutex mutex;
  static std::map<int, size_t> known;
  std::lock_guard<std::mutex> lock(mutex);
  auto found = known.find(device);
  if (found != known.end()) return found->second;
  cudaDeviceProp prop;
  TG_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return known[device] = prop.totalGlobalMem;
}
}  // namespace

// Note [frees during graph capture]
// While a stream is being captured into a CUDA graph, cudaFreeAsync on it becomes a free
// node of the graph, which may only free memory allocated in the graph. A tensor made
// before the capture and dropped during it (a previous step's activations, a reassigned
// buffer) must therefore not be freed then: its block waits in `deferred` until the stream
// is no longer capturing (the next allocation or free outside a capture, or the end of a
// CudaGraph capture). Blocks allocated during a capture are remembered with its id, and
// freed in it when dropped there.
namespace {

struct CaptureBookkeeping {
  std::mutex mutex;
  std::map<void*, unsigned long long> allocated_in_capture;  // block -> capture id
  std::vector<std::pair<void*, void*>> deferred;             // (stream, block)
  std::string failure;  // a failed free, reported by the next allocate or synchronize
};

CaptureBookkeeping& bookkeeping() {
  static auto* state = new CaptureBookkeeping();  // used from destructors: never destroyed
  return *state;
}

// The id of the capture under way on `stream`, or 0 when it is not being captured.
unsigned long long capture_id(void* stream) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  unsigned long long id = 0;
  if (cudaStreamGetCaptureInfo(static_cast<cudaStream_t>(stream), &status, &id) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return status == cudaStreamCaptureStatusNone ? 0 : id;
}

// Frees one block; a failure is kept for the next checked call. Caller holds the mutex.
void free_block(CaptureBookkeeping& books, void* stream, void* ptr) noexcept {
  const cudaError_t status = cudaFreeAsync(ptr, static_cast<cudaStream_t>(stream));
  if (status != cudaSuccess && books.failure.empty()) {
    (void)cudaGetLastError();
    books.failure = std::string("cudaFreeAsync failed: ") + cudaGetErrorString(status);
  }
}

// Frees the deferred blocks whose stream is no longer capturing. Caller holds the mutex.
void free_deferred(CaptureBookkeeping& books) noexcept {
  auto still_waiting = books.deferred.begin();
  for (auto& [stream, ptr] : books.deferred) {
    if (capture_id(stream) == 0) {
      free_block(books, stream, ptr);
    } else {
      *still_waiting++ = {stream, ptr};
    }
  }
  books.deferred.erase(still_waiting, books.deferred.end());
}

// Throws the failure a free recorded, once.
void report_failed_free() {
  CaptureBookkeeping& books = bookkeeping();
  std::string failure;
  {
    std::lock_guard<std::mutex> lock(books.mutex);
    failure.swap(books.failure);
  }
  TG_CHECK(failure.empty(), "an earlier CUDA free failed: ", failure);
}

}  // namespace

void* allocate(int device, void* stream, size_t bytes) {
  report_failed_free();
  set_device(device);  // a no-op when current: scratch blocks come here per launch
  // A request past the whole device is refused here, with the device's size in the
  // message, rather than by the allocator (whose failure tools report as an API error).
  if (bytes > (size_t{1} << 30)) {
    const size_t total = device_memory(device);
    TG_CHECK(bytes <= total, "out of memory on cuda:", device, ": could not allocate ", bytes,
             " bytes (the device has ", total, " bytes)");
  }
  const unsigned long long capture = capture_id(stream);
  CaptureBookkeeping& books = bookkeeping();
  if (capture == 0) {
    std::lock_guard<std::mutex> lock(books.mutex);
    if (!books.deferred.empty()) free_deferred(books);
  }
  void* ptr = nullptr;
  const cudaError_t status = cudaMallocAsync(&ptr, bytes, static_cast<cudaStream_t>(stream));
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    TG_THROW("out of memory on cuda:", device, ": could not allocate ", bytes, " bytes (",
             cudaGetErrorString(status), ")");
  }
  if (capture != 0) {
    std::lock_guard<std::mutex> lock(books.mutex);
    books.allocated_in_capture[ptr] = capture;
  }
  return ptr;
}

void deallocate(int device, void* stream, void* ptr) noexcept {
  if (cudaSetDevice(device) != cudaSuccess) {
    (void)cudaGetLastError();
    return;  // the device is gone: nothing left to free on it
  }
  const unsigned long long capture = capture_id(stream);
  CaptureBookkeeping& books = bookkeeping();
  std::lock_guard<std::mutex> lock(books.mutex);
  const auto found = books.allocated_in_capture.find(ptr);
  const unsigned long long allocated_in =
      found != books.allocated_in_capture.end() ? found->second : 0;
  if (found != books.allocated_in_capture.end()) books.allocated_in_capture.erase(found);
  if (capture != 0 && allocated_in != capture) {
    books.deferred.emplace_back(stream, ptr);
    return;
  }
  if (capture == 0 && !books.deferred.empty()) free_deferred(books);
  free_block(books, stream, ptr);
}

void release_deferred_frees() {
  CaptureBookkeeping& books = bookkeeping();
  std::lock_guard<std::mutex> lock(books.mutex);
  free_deferred(books);
}

void begin_capture(int device, void* stream) {
  TG_CUDA_CHECK(cudaSetDevice(device));
  TG_CUDA_CHECK(
      cudaStreamBeginCapture(static_cast<cudaStream_t>(stream), cudaStreamCaptureModeGlobal));
}

void* end_capture(int device, void* stream) {
  TG_CUDA_CHECK(cudaSetDevice(device));
  cudaGraph_t graph = nullptr;
  TG_CUDA_CHECK(cudaStreamEndCapture(static_cast<cudaStream_t>(stream), &graph));
  release_deferred_frees();
  cudaGraphExec_t exec = nullptr;
  // Memory the graph allocates and does not free (tensors that outlive the capture) is
  // freed again before each launch, so the graph can be replayed.
  const cudaError_t status =
      cudaGraphInstantiateWithFlags(&exec, graph, cudaGraphInstantiateFlagAutoFreeOnLaunch);
  (void)cudaGraphDestroy(graph);
  TG_CUDA_CHECK(status);
  return exec;
}

void launch_graph(int device, void* stream, void* graph) {
  TG_CUDA_CHECK(cudaSetDevice(device));
  TG_CUDA_CHECK(
      cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph), static_cast<cudaStream_t>(stream)));
}

void destroy_graph(void* graph) noexcept {
  (void)cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph));
}

namespace {
// Makes `waiting` wait for the work queued so far on `done` (on `done_device`); no host wait.
void order_streams(int done_device, cudaStream_t done, cudaStream_t waiting) {
  TG_CUDA_CHECK(cudaSetDevice(done_device));
  cudaEvent_t event;
  TG_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  TG_CUDA_CHECK(cudaEventRecord(event, done));
  TG_CUDA_CHECK(cudaStreamWaitEvent(waiting, event, 0));
  TG_CUDA_CHECK(cudaEventDestroy(event));  // released once the wait is satisfied
}
}  // namespace

void copy_bytes(void* dst, const Device& dst_device, const void* src, const Device& src_device,
                size_t bytes) {
  if (bytes == 0) return;
  // Queue on the stream of the CUDA side (the destination's when both are CUDA).
  const Device& queue_device = dst_device.is_cuda() ? dst_device : src_device;
  cudaStream_t stream = static_cast<cudaStream_t>(context(queue_device).stream());
  const bool peer = src_device.is_cuda() && dst_device.is_cuda() && src_device != dst_device;
  cudaStream_t src_stream =
      peer ? static_cast<cudaStream_t>(context(src_device).stream()) : nullptr;
  // Between two GPUs: the copy waits for the source's writes, and the source's stream
  // then waits for the copy, so that nothing queued there later (the source's own
  // stream-ordered free above all) can overtake the read.
  if (peer) order_streams(src_device.index(), src_stream, stream);
  TG_CUDA_CHECK(cudaSetDevice(queue_device.index()));
  TG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream));
  if (peer) order_streams(dst_device.index(), stream, src_stream);
  if (dst_device.is_cpu()) TG_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void synchronize(int device, void* stream) {
  report_failed_free();
  TG_CUDA_CHECK(cudaSetDevice(device));
  TG_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
}

void* allocate_pinned(size_t bytes) {
  void* ptr = nullptr;
  if (bytes > 0) TG_CUDA_CHECK(cudaMallocHost(&ptr, bytes));
  return ptr;
}

void free_pinned(void* ptr) noexcept {
  if (ptr != nullptr) (void)cudaFreeHost(ptr);
}

void copy_to_host_async(void* dst, const void* src, size_t bytes, int device, void* stream) {
  if (bytes == 0) return;
  TG_CUDA_CHECK(cudaSetDevice(device));
  TG_CUDA_CHECK(
      cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream)));
}

void* create_event(int device) {
  TG_CUDA_CHECK(cudaSetDevice(device));
  cudaEvent_t event;
  TG_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  return event;
}

void destroy_event(void* event) noexcept {
  if (event != nullptr) (void)cudaEventDestroy(static_cast<cudaEvent_t>(event));
}

void record_event(int device, void* event, void* stream) {
  TG_CUDA_CHECK(cudaSetDevice(device));
  TG_CUDA_CHECK(
      cudaEventRecord(static_cast<cudaEvent_t>(event), static_cast<cudaStream_t>(stream)));
}

bool stream_capturing(int device, void* stream) {
  set_device(device);
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  TG_CUDA_CHECK(cudaStreamIsCapturing(static_cast<cudaStream_t>(stream), &status));
  return status != cudaStreamCaptureStatusNone;
}

bool event_done(void* event) {
  const cudaError_t status = cudaEventQuery(static_cast<cudaEvent_t>(event));
  if (status == cudaErrorNotReady) return false;
  TG_CUDA_CHECK(status);
  return true;
}

void wait_event(void* event) {
  TG_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event)));
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
  os << "CUDA runtime " << runtime / 1000 << "." << (runtime % 1000) / 10 << ", cuBLAS " << cublas
     << ".x, cuDNN " << cudnn / 10000 << "." << (cudnn % 10000) / 100 << "." << cudnn % 100;
  return os.str();
}

}  // namespace tg::cuda_backend
