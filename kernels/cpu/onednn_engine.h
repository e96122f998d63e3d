// The one oneDNN CPU engine every oneDNN call of the CPU launchers runs on (made on first
// use, immutable after), OneThread and failure_of. Built only with oneDNN (TG_WITH_ONEDNN).
#pragma once

#include <omp.h>

#include <exception>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

namespace tg::kernels::cpu::onednn {

inline const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// The calling thread's OpenMP count set to one while a primitive is made and run, so oneDNN
// plans it for one thread (Notes [onednn filter gradient], [float32 matmul blocks]).
class OneThread {
 public:
  OneThread() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(saved_); }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;

 private:
  int saved_;
};

// Runs work(); "" when it returned, else "<what> failed (status N): ..." (or "<what> failed:
// ..." for another exception). For passes run on the threads of an OpenMP loop, which no
// exception may leave: the caller reports the text after the loop.
template <typename Work>
std::string failure_of(const std::string& what, Work&& work) {
  try {
    work();
  } catch (const dnnl::error& e) {
    return what + " failed (status " + std::to_string(static_cast<int>(e.status)) +
           "): " + e.what();
  } catch (const std::exception& e) {
    return what + " failed: " + e.what();
  }
  return "";
}

}  // namespace tg::kernels::cpu::onednn
