// safetensors files (the format of Hugging Face's `safetensors`): an 8-byte little-endian
// header length N, N bytes of JSON — {"name": {"dtype": "F32", "shape": [2, 3],
// "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "value"}} — padded with
// spaces so the data starts 8-byte aligned, then the raw little-endian data, each tensor
// at its offsets from the start of the data section. Python's
// `safetensors.torch.load_file` reads what save_safetensors writes, and the other way.
//
// Note [atomic save]: save_safetensors writes a temporary file in the target's directory
// (<target>.tmp.<pid>.<n>), flushes and fsyncs it, renames it over the target and fsyncs the
// directory. A save interrupted at any point (even by SIGKILL or a power cut after the
// rename) leaves either the complete old file or the complete new one under the target
// name. A failed save removes its temporary; a killed one cannot, so each save first removes
// the temporaries of the same target left by processes that no longer run.
//
// Note [validating reads]: load_safetensors trusts nothing in the file, and refuses what
// Python's safetensors refuses, so that the two never disagree about a file. The file must be
// a regular file; the header length is bounded by the file size and kMaxHeaderBytes; the
// header is parsed in one linear pass and checked as it is read (no byte-order mark, an
// object of objects at most three deep, at most a million tensors, unique tensor names, no
// field repeated within an entry); every dtype must be one tamegrad has (F32, F64, I64, U8);
// every shape's byte size must equal its offsets' span; the spans, sorted, must tile the
// data section exactly (no gap, overlap, or trailing byte). A repeated __metadata__ key keeps
// its last value, as Python's does. A failure throws tg::Error naming the file, the tensor
// and the field.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../foundation/config.h"
#include "device.h"
#include "state_dict.h"

TG_API_BEGIN

namespace tg {

using Metadata = std::vector<std::pair<std::string, std::string>>;

struct SafetensorsContents {
  NamedTensors tensors;  // in the order of their data in the file
  Metadata metadata;     // __metadata__, sorted by key
};

constexpr uint64_t kMaxHeaderBytes = 100000000;  // the Python library's limit (MAX_HEADER_SIZE)

// Writes `tensors` (any device; names unique and non-empty) and `metadata` atomically to
// `path` (Note [atomic save]). Throws, leaving any previous file untouched, when a name is
// repeated or the directory cannot be written.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata = {});

// Reads and validates `path` (Note [validating reads]); tensors come on `device`.
SafetensorsContents load_safetensors(const std::string& path, const Device& device = Device::cpu());

// The same from bytes in memory; `name` stands for the file in messages.
SafetensorsContents parse_safetensors(const std::string& name, const std::string& bytes,
                                      const Device& device = Device::cpu());

// The bytes save_safetensors writes.
std::string serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata = {});

}  // namespace tg

TG_API_END
