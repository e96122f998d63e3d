// safetensors reading (Note [validating reads]) and atomic writing (Note [atomic save]).
#include "tamegrad/core/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tamegrad/core/factory.h"
#include "tamegrad/core/safetensors_hook.h"
#include "tamegrad/kernels/common.h"

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
  }
  return "?";
}

bool dtype_from_code(const std::string& code, DType* dtype) {
  static const std::map<std::string, DType> codes{{"F32", DType::Float32},
                                                  {"F64", DType::Float64},
                                                  {"I64", DType::Int64},
                                                  {"U8", DType::UInt8}};
  const auto it = codes.find(code);
  if (it == codes.end()) return false;
  *dtype = it->second;
  return true;
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

SafetensorsContents load_safetensors(const std::string& path, const Device& device) {
  std::ifstream in(path, std::ios::binary);
  TG_CHECK(in.good(), "load_safetensors: ", system_error("cannot open", path));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  TG_CHECK(size >= 0, "load_safetensors: ", system_error("cannot read", path));
  in.seekg(0);
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), size);
  TG_CHECK(in.gcount() == size, "load_safetensors: ", system_error("cannot read", path));
  return parse_safetensors(path, bytes, device);
}

namespace {

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

// An array of non-negative integers, each checked to fit `limit`.
std::vector<uint64_t> unsigned_array(const std::string& where, const json& value, const char* field,
                                     uint64_t limit) {
  TG_CHECK(value.is_array(), where, ": '", field, "' must be an array, got ", value.dump());
  std::vector<uint64_t> out;
  for (const json& v : value) {
    TG_CHECK(v.is_number_unsigned(), where, ": '", field, "' must hold non-negative integers, got ",
             v.dump());
    const uint64_t x = v.get<uint64_t>();
    TG_CHECK(x <= limit, where, ": '", field, "' value ", x, " is too large");
    out.push_back(x);
  }
  return out;
}

Entry parse_entry(const std::string& file, const std::string& name, const json& value,
                  uint64_t data_size) {
  const std::string where = file + ": tensor '" + name + "'";
  TG_CHECK(value.is_object(), where, ": must be an object, got ", value.dump());
  for (const auto& [key, v] : value.items()) {
    TG_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", where, ": unknown field '",
             key, "'");
  }
  TG_CHECK(value.contains("dtype") && value.contains("shape") && value.contains("data_offsets"),
           where, ": needs 'dtype', 'shape' and 'data_offsets'");
  Entry e{name, DType::Float32, {}, 0, 0};
  const json& dtype = value["dtype"];
  TG_CHECK(dtype.is_string(), where, ": 'dtype' must be a string, got ", dtype.dump());
  TG_CHECK(dtype_from_code(dtype.get<std::string>(), &e.dtype), where, ": 'dtype' ", dtype.dump(),
           " is not one tamegrad has (F32, F64, I64, U8)");
  const std::vector<uint64_t> dims =
      unsigned_array(where, value["shape"], "shape", std::numeric_limits<int64_t>::max());
  TG_CHECK(dims.size() <= static_cast<size_t>(kernels::kMaxDims), where, ": 'shape' has ",
           dims.size(), " dims; at most ", kernels::kMaxDims, " are supported");
  uint64_t bytes = element_size(e.dtype);
  for (uint64_t d : dims) {
    TG_CHECK(d == 0 || bytes <= data_size / d, where, ": 'shape' ", value["shape"].dump(),
             " needs more bytes than the data section holds (", data_size, ")");
    bytes *= d;
    e.shape.push_back(static_cast<int64_t>(d));
  }
  const std::vector<uint64_t> offsets =
      unsigned_array(where, value["data_offsets"], "data_offsets", data_size);
  TG_CHECK(offsets.size() == 2, where, ": 'data_offsets' must be [begin, end], got ",
           value["data_offsets"].dump());
  e.begin = offsets[0];
  e.end = offsets[1];
  TG_CHECK(e.begin <= e.end, where, ": 'data_offsets' [", e.begin, ", ", e.end,
           "] ends before it begins");
  TG_CHECK(e.end - e.begin == bytes, where, ": 'data_offsets' span ", e.end - e.begin,
           " bytes but 'shape' ", value["shape"].dump(), " of ", dtype_name(e.dtype), " needs ",
           bytes);
  return e;
}

}  // namespace

SafetensorsContents parse_safetensors(const std::string& file, const std::string& bytes,
                                      const Device& device) {
  TG_CHECK(little_endian(), "safetensors: only little-endian hosts are supported");
  TG_CHECK(bytes.size() >= 8, file, ": ", bytes.size(),
           " bytes is too short for a safetensors file (the header length alone takes 8)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  TG_CHECK(n <= kMaxHeaderBytes, file, ": header length ", n, " is over the limit of ",
           kMaxHeaderBytes, " bytes");
  TG_CHECK(n <= bytes.size() - 8, file, ": header length ", n, " runs past the end of the file (",
           bytes.size(), " bytes)");
  const uint64_t data_size = bytes.size() - 8 - n;
  // Duplicate names would silently keep the last; the parser callback sees every key.
  // Depth: the header object (1), an entry or __metadata__ (2), shape/offsets (3).
  std::set<std::string> names;
  std::string duplicate;
  const auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    TG_CHECK(depth <= 3, file, ": header nests deeper than a safetensors header can");
    if (event == json::parse_event_t::key && depth == 1) {
      const std::string key = parsed.get<std::string>();
      if (!names.insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n),
                         callback);
  } catch (const json::exception& e) {
    TG_CHECK(false, file, ": header is not valid JSON: ", e.what());
  }
  TG_CHECK(duplicate.empty(), file, ": tensor name '", duplicate, "' appears twice");
  TG_CHECK(header.is_object(), file, ": header must be a JSON object, got ", header.type_name());

  SafetensorsContents out;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      TG_CHECK(value.is_object(), file, ": '__metadata__' must be an object of strings");
      for (const auto& [mk, mv] : value.items()) {
        TG_CHECK(mv.is_string(), file, ": '__metadata__' value of '", mk,
                 "' must be a string, got ", mv.dump());
        out.metadata.emplace_back(mk, mv.get<std::string>());
      }
      continue;
    }
    entries.push_back(parse_entry(file, key, value, data_size));
  }
  // The spans, in order, must tile the data section: no gap, no overlap, nothing after.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (const Entry& e : entries) {
    TG_CHECK(e.begin == expected, file, ": tensor '", e.name, "' 'data_offsets' [", e.begin, ", ",
             e.end, "] ", e.begin < expected ? "overlaps the tensor before it" : "leaves a gap",
             " (the data so far ends at ", expected, ")");
    expected = e.end;
  }
  TG_CHECK(expected == data_size, file, ": the tensors' data ends at byte ", expected,
           " of a data section of ", data_size, " bytes (", data_size - expected,
           " trailing bytes)");
  const char* data = bytes.data() + 8 + n;
  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.raw_data_ptr(), data + e.begin, e.end - e.begin);
    out.tensors.emplace_back(e.name, device.is_cpu() ? t : t.to(device));
  }
  return out;
}

}  // namespace tg
