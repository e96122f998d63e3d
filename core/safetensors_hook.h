// A test hook into save_safetensors (core/safetensors.h), not installed: the crash test
// kills a child process at each point of a save and checks what the target file holds.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tg::detail {

// Called with 0, 1, 2, ... after each chunk written to the temporary file, then after
// its fsync, after the rename and after the directory's fsync. Null: none.
using SaveHook = void (*)(int64_t point);
// Also sets the chunk size of the writes (0: the default, 1 MiB).
void set_save_hook(SaveHook hook, size_t chunk_bytes = 0);

}  // namespace tg::detail
