// The one oneDNN CPU engine every oneDNN call of the CPU launchers runs on (made on first
// use, immutable after), and OneThread. Built only with oneDNN (TG_WITH_ONEDNN).
#pragma once

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

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

}  // namespace tg::kernels::cpu::onednn
