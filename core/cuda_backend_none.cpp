// The CUDA backend of a build without CUDA: reports zero devices and refuses the rest.
#include "../foundation/error.h"
#include "cuda_backend.h"

namespace tg::cuda_backend {

namespace {
[[noreturn]] void not_compiled(const char* what) {
  TG_THROW(what, ": CUDA support was not compiled in (rebuild with TG_CUDA=ON and nvcc)");
}
}  // namespace

bool compiled() { return false; }
int device_count() { return 0; }
void set_device(int) { not_compiled("set_device"); }
void* create_stream(int) { not_compiled("create_stream"); }
void* create_cublas(int, void*) { not_compiled("cublas handle"); }
void* create_cudnn(int, void*) { not_compiled("cudnn handle"); }
void destroy_cublas(int, void*) noexcept {}
void destroy_cudnn(int, void*) noexcept {}
void* allocate(int, void*, size_t) { not_compiled("allocate on cuda"); }
void deallocate(int, void*, void*) noexcept {}
void release_deferred_frees() {}
void begin_capture(int, void*) { not_compiled("CUDA graph capture"); }
void* end_capture(int, void*) { not_compiled("CUDA graph capture"); }
void launch_graph(int, void*, void*) { not_compiled("CUDA graph replay"); }
void destroy_graph(void*) noexcept {}
void copy_bytes(void*, const Device&, const void*, const Device&, size_t) {
  not_compiled("copy to or from cuda");
}
void synchronize(int, void*) { not_compiled("synchronize cuda"); }
void* allocate_pinned(size_t) { not_compiled("pinned host memory"); }
void free_pinned(void*) noexcept {}
void copy_to_host_async(void*, const void*, size_t, int, void*) { not_compiled("copy from cuda"); }
void* create_event(int) { not_compiled("CUDA events"); }
void destroy_event(void*) noexcept {}
void record_event(int, void*, void*) { not_compiled("CUDA events"); }
bool event_done(void*) { not_compiled("CUDA events"); }
bool stream_capturing(int, void*) { return false; }
void wait_event(void*) { not_compiled("CUDA events"); }
std::string describe(int) { not_compiled("describe cuda device"); }
std::string library_versions() { return "CUDA support was not compiled in"; }

}  // namespace tg::cuda_backend
