// libFuzzer target: the safetensors parser (core/safetensors_read.cpp) on arbitrary bytes.
// Anything but a tg::Error (a crash, a sanitizer report, an allocation over libFuzzer's
// limit, a time-out from a header parsed in more than linear time) is a bug. Built by
// TG_FUZZ=ON with clang (tests/fuzz/CMakeLists.txt); every build replays the committed
// corpus through tests/fuzz/replay_main.cpp.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../../core/safetensors.h"
#include "../../foundation/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tg::parse_safetensors("fuzz", std::string(reinterpret_cast<const char*>(data), size));
  } catch (const tg::Error&) {
  }
  return 0;
}
