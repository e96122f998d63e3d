// libFuzzer target: the IDX parser (data/idx.cpp) on arbitrary bytes. Anything but a
// tg::Error (a crash, a sanitizer report, an allocation over libFuzzer's limit) is a bug.
// Built by TG_FUZZ=ON with clang (tests/fuzz/CMakeLists.txt); every build replays the
// committed corpus through tests/fuzz/replay_main.cpp.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../../data/idx.h"
#include "../../foundation/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tg::data::parse_idx("fuzz", std::string(reinterpret_cast<const char*>(data), size));
  } catch (const tg::Error&) {
  }
  return 0;
}
