// safetensors writing, atomic (Note [atomic save]); reading is core/safetensors_read.cpp.
#include "safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <signal.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "../kernels/common.h"
#include "factory.h"
#include "safetensors_hook.h"

namespace tg {

namespace {

using nlohmann::json;

static_assert(sizeof(void*) == 8, "64-bit hosts only");

bool little_endian() {
  const uint16_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

const char* dtype_code(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::UInt8: return "U8";
    case DType::BFloat16: return "BF16";
    case DType::Float16: return "F16";
  }
  return "?";
}

// ---- the test hook (core/safetensors_hook.h) ----
std::atomic<detail::SaveHook> save_hook{nullptr};
std::atomic<size_t> save_chunk{size_t{1} << 20};

void hook(int64_t point) {
  if (detail::SaveHook h = save_hook.load()) h(point);
}

std::string system_error(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Note [atomic save]: removes <dir>/<base>.tmp.<pid>.<n> files whose process no longer
// runs (a save killed before its rename); a live process's temporary is left alone.
void remove_stale_temporaries(const std::string& path) {
  const std::string dir = directory_of(path);
  const size_t slash = path.find_last_of('/');
  const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) return;  // the save itself will report what is wrong
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name(entry->d_name);
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string_view rest = name.substr(prefix.size());
    const size_t dot = rest.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot > 9) continue;
    if (rest.find_first_not_of("0123456789.") != std::string_view::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(std::string(rest.substr(0, dot))));
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) stale.emplace_back(name);
  }
  ::closedir(listing);
  for (const std::string& name : stale) ::unlink((dir + "/" + name).c_str());
}

}  // namespace

namespace detail {
void set_save_hook(SaveHook h, size_t chunk_bytes) {
  save_hook = h;
  save_chunk = chunk_bytes > 0 ? chunk_bytes : size_t{1} << 20;
}
}  // namespace detail

std::string serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata) {
  TG_CHECK(little_endian(), "safetensors: only little-endian hosts are supported");
  std::set<std::string> names;
  std::vector<std::pair<std::string, Tensor>> order;
  for (const auto& [name, t] : tensors) {
    TG_CHECK(!name.empty() && name != "__metadata__", "safetensors: tensor name '", name,
             "' is not allowed");
    TG_CHECK(names.insert(name).second, "safetensors: tensor name '", name, "' given twice");
    TG_CHECK(t.defined(), "safetensors: tensor '", name, "' is undefined");
    order.emplace_back(name, t.to(Device::cpu()).contiguous());
  }
  // Widest elements first, so every tensor's data starts aligned to its element size;
  // then by name, as Python's safetensors orders them.
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    const size_t ea = element_size(a.second.dtype()), eb = element_size(b.second.dtype());
    return ea != eb ? ea > eb : a.first < b.first;
  });
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : order) {
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * element_size(t.dtype());
    json shape = json::array();
    for (int64_t d : t.shape()) shape.push_back(d);
    header[name] = {{"dtype", dtype_code(t.dtype())},
                    {"shape", shape},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) {
    json meta = json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = meta;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {
    TG_CHECK(false, "safetensors: a tensor name or metadata string is not valid UTF-8 (", e.what(),
             ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  out += text;
  out.reserve(out.size() + offset);
  for (const auto& [name, t] : order) {
    const size_t bytes = static_cast<size_t>(t.numel()) * element_size(t.dtype());
    if (bytes > 0) out.append(static_cast<const char*>(t.raw_data_ptr()), bytes);
  }
  return out;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata) {
  const std::string bytes = serialize_safetensors(tensors, metadata);
  remove_stale_temporaries(path);
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  TG_CHECK(fd >= 0, "save_safetensors: ", system_error("cannot create", tmp));
  const auto fail = [&](const std::string& message) {
    const int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = saved;
    TG_CHECK(false, "save_safetensors: ", message, "; '", path, "' is unchanged");
  };
  size_t done = 0;
  int64_t point = 0;
  while (done < bytes.size()) {
    const size_t chunk = std::min(save_chunk.load(), bytes.size() - done);
    const ssize_t n = ::write(fd, bytes.data() + done, chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(system_error("cannot write", tmp));
    done += static_cast<size_t>(n);
    hook(point++);
  }
  if (::fsync(fd) != 0) fail(system_error("cannot flush", tmp));
  hook(point++);
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    TG_CHECK(false, "save_safetensors: ", system_error("cannot close", tmp), "; '", path,
             "' is unchanged");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string message = system_error("cannot rename over", path);
    ::unlink(tmp.c_str());
    TG_CHECK(false, "save_safetensors: ", message, "; it is unchanged");
  }
  hook(point++);
  // The rename itself must reach the disk for the new file to survive a power cut.
  const std::string dir = directory_of(path);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  TG_CHECK(dir_fd >= 0, "save_safetensors: ", system_error("cannot open directory", dir));
  const int synced = ::fsync(dir_fd);
  ::close(dir_fd);
  TG_CHECK(synced == 0, "save_safetensors: ", system_error("cannot flush directory", dir));
  hook(point++);
}

}  // namespace tg
