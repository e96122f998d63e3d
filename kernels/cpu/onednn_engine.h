// The one oneDNN CPU engine every oneDNN call of the CPU launchers runs on (made on first
// use, immutable after). Built only with oneDNN (TG_WITH_ONEDNN).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace tg::kernels::cpu::onednn {

inline const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace tg::kernels::cpu::onednn
