// safetensors reading (Note [validating reads], core/safetensors.h): the header parsed in one
// pass by a SAX handler that checks each event as it comes, so time and memory grow linearly
// with the header (nlohmann-json's callback parser, used before, was quadratic in the number
// of tensors: 80,000 took 71 s), then the data copied out tensor by tensor.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "../kernels/common.h"
#include "factory.h"
#include "safetensors.h"

namespace tg {

namespace {

struct Entry {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape{};
  uint64_t begin = 0, end = 0;
};

bool dtype_from_code(const std::string& code, DType* dtype) {
  static const std::map<std::string, DType> codes{
      {"F32", DType::Float32}, {"F64", DType::Float64},   {"I64", DType::Int64},
      {"U8", DType::UInt8},    {"BF16", DType::BFloat16}, {"F16", DType::Float16}};
  const auto it = codes.find(code);
  if (it == codes.end()) return false;
  *dtype = it->second;
  return true;
}

std::string array_text(const std::vector<uint64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

// The header's events, checked as they arrive (nlohmann-json's SAX interface). Depth counts
// the open containers: 1 inside the header object, 2 inside an entry or __metadata__, 3
// inside an entry's shape or data_offsets. Every check throws tg::Error naming the file, the
// tensor and the field.
class HeaderReader {
 public:
  HeaderReader(const std::string& file, uint64_t data_size) : file_(file), data_size_(data_size) {}

  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;  // a repeated key keeps its last value, as serde

  bool null() { return scalar("null", "null"); }
  bool boolean(bool value) { return scalar("a boolean", value ? "true" : "false"); }
  bool number_integer(int64_t value) {
    return value >= 0 ? number(static_cast<uint64_t>(value))
                      : scalar("a negative number", std::to_string(value));
  }
  bool number_unsigned(uint64_t value) { return number(value); }
  bool number_float(double, const std::string& text) { return scalar("a fractional number", text); }
  bool binary(nlohmann::json::binary_t&) { return scalar("binary data", "binary"); }
  bool string(std::string& value) {
    if (depth_ == 2 && in_metadata_) {
      metadata[key_] = value;
      return true;
    }
    if (depth_ == 2 && field_ == "dtype") {
      TG_CHECK(dtype_from_code(value, &entry_.dtype), where(), ": 'dtype' \"", value,
               "\" is not one tamegrad has (F32, F64, I64, U8, BF16, F16)");
      return true;
    }
    return scalar("a string", "\"" + value + "\"");
  }

  bool start_object(size_t) {
    if (depth_ == 1) {
      in_metadata_ = name_ == "__metadata__";
      if (!in_metadata_) {
        TG_CHECK(entries.size() < kMaxTensors, file_, ": the header holds more than ", kMaxTensors,
                 " tensors, the most a file may");
        entry_ = Entry();
        entry_.name = name_;
        seen_.clear();
      }
    } else if (depth_ >= 2) {
      wrong_type("an object");
    }
    ++depth_;
    return true;
  }
  bool end_object() {
    --depth_;
    if (depth_ == 1 && !in_metadata_) entries.push_back(finish_entry());
    in_metadata_ = in_metadata_ && depth_ > 1;
    return true;
  }
  bool start_array(size_t) {
    if (depth_ == 2 && !in_metadata_ && (field_ == "shape" || field_ == "data_offsets")) {
      array_.clear();
    } else {
      wrong_type("an array");
    }
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    if (field_ == "shape") {
      shape_ = array_;
    } else {
      TG_CHECK(array_.size() == 2, where(), ": 'data_offsets' must be [begin, end], got ",
               array_text(array_));
      offsets_ = array_;
    }
    return true;
  }
  bool key(std::string& key) {
    if (depth_ == 1) {
      TG_CHECK(names_.insert(key).second, file_, ": tensor name '", key, "' appears twice");
      name_ = key;
    } else if (in_metadata_) {
      key_ = key;
    } else {
      TG_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", where(),
               ": unknown field '", key, "'");
      // serde refuses a repeated field; keeping either value would make two readers disagree.
      TG_CHECK(seen_.insert(key).second, where(), ": field '", key, "' appears twice");
      field_ = key;
    }
    return true;
  }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception& e) {
    TG_THROW(file_, ": header is not valid JSON: ", e.what());
  }

 private:
  static constexpr size_t kMaxTensors = 1000000;

  std::string where() const { return file_ + ": tensor '" + entry_.name + "'"; }

  bool number(uint64_t value) {
    if (depth_ != 3) return scalar("a number", std::to_string(value));
    const uint64_t limit =
        field_ == "shape" ? static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) : data_size_;
    TG_CHECK(value <= limit, where(), ": '", field_, "' value ", value, " is too large");
    TG_CHECK(field_ != "shape" || array_.size() < static_cast<size_t>(kernels::kMaxDims), where(),
             ": 'shape' has more than ", kernels::kMaxDims, " dims; at most ", kernels::kMaxDims,
             " are supported");
    TG_CHECK(field_ == "shape" || array_.size() < 2, where(),
             ": 'data_offsets' must be [begin, end], got more than two values");
    array_.push_back(value);
    return true;
  }
  // A value that is not a container, where `kind` names what it is and `text` spells it.
  bool scalar(const char* kind, const std::string& text) {
    TG_CHECK(depth_ != 3, where(), ": '", field_, "' must hold non-negative integers, got ", text);
    wrong_type(kind);
    return true;
  }
  [[noreturn]] void wrong_type(const std::string& kind) {
    TG_CHECK(depth_ != 0, file_, ": header must be a JSON object, got ", kind);
    if (depth_ == 1) {
      TG_CHECK(name_ != "__metadata__", file_,
               ": '__metadata__' must be an object of strings, got ", kind);
      TG_THROW(file_, ": tensor '", name_, "': must be an object, got ", kind);
    }
    TG_CHECK(!in_metadata_, file_, ": '__metadata__' value of '", key_, "' must be a string, got ",
             kind);
    TG_CHECK(depth_ < 3, file_, ": header nests deeper than a safetensors header can");
    TG_CHECK(field_ != "dtype", where(), ": 'dtype' must be a string, got ", kind);
    TG_THROW(where(), ": '", field_, "' must be an array, got ", kind);
  }
  Entry finish_entry() {
    TG_CHECK(seen_.size() == 3, where(), ": needs 'dtype', 'shape' and 'data_offsets'");
    Entry e = entry_;
    // The strides of a contiguous tensor of this shape must fit in int64 even when a 0
    // dimension leaves it no elements (sizes multiplied with 0 counted as 1).
    uint64_t span = 1;
    for (uint64_t d : shape_) {
      TG_CHECK(!__builtin_mul_overflow(span, std::max<uint64_t>(d, 1), &span) &&
                   span <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
               where(), ": 'shape' ", array_text(shape_),
               " is too large: its strides overflow 64 bits");
    }
    uint64_t bytes = element_size(e.dtype);
    for (uint64_t d : shape_) {
      TG_CHECK(d == 0 || bytes <= data_size_ / d, where(), ": 'shape' ", array_text(shape_),
               " needs more bytes than the data section holds (", data_size_, ")");
      bytes *= d;
      e.shape.push_back(static_cast<int64_t>(d));
    }
    e.begin = offsets_[0];
    e.end = offsets_[1];
    TG_CHECK(e.begin <= e.end, where(), ": 'data_offsets' [", e.begin, ", ", e.end,
             "] ends before it begins");
    TG_CHECK(e.end - e.begin == bytes, where(), ": 'data_offsets' span ", e.end - e.begin,
             " bytes but 'shape' ", array_text(shape_), " of ", dtype_name(e.dtype), " needs ",
             bytes);
    return e;
  }

  const std::string& file_;
  const uint64_t data_size_;
  int depth_ = 0;
  std::unordered_set<std::string> names_;
  std::string name_;  // the key at depth 1
  bool in_metadata_ = false;
  std::string key_;  // the key inside __metadata__
  Entry entry_;
  std::unordered_set<std::string> seen_;  // the entry's fields so far
  std::string field_;
  std::vector<uint64_t> array_, shape_, offsets_;
};

std::string system_error(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

}  // namespace

SafetensorsContents parse_safetensors(const std::string& file, const std::string& bytes,
                                      const Device& device) {
  TG_CHECK(bytes.size() >= 8, file, ": ", bytes.size(),
           " bytes is too short for a safetensors file (the header length alone takes 8)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  TG_CHECK(n <= kMaxHeaderBytes, file, ": header length ", n, " is over the limit of ",
           kMaxHeaderBytes, " bytes");
  TG_CHECK(n <= bytes.size() - 8, file, ": header length ", n, " runs past the end of the file (",
           bytes.size(), " bytes)");
  const char* header = bytes.data() + 8;
  // nlohmann-json skips a byte-order mark; Python's safetensors (serde_json) refuses one.
  TG_CHECK(n < 3 || std::memcmp(header, "\xEF\xBB\xBF", 3) != 0, file,
           ": header starts with a UTF-8 byte-order mark, which safetensors does not allow");
  const uint64_t data_size = bytes.size() - 8 - n;
  HeaderReader reader(file, data_size);
  nlohmann::json::sax_parse(header, header + n, &reader);

  // The spans, in order, must tile the data section: no gap, no overlap, nothing after.
  std::vector<Entry>& entries = reader.entries;
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
  SafetensorsContents out;
  out.metadata.assign(reader.metadata.begin(), reader.metadata.end());
  const char* data = header + n;
  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.raw_data_ptr(), data + e.begin, e.end - e.begin);
    out.tensors.emplace_back(e.name, device.is_cpu() ? t : t.to(device));
  }
  return out;
}

SafetensorsContents load_safetensors(const std::string& path, const Device& device) {
  // Opened without blocking and held to a regular file: a FIFO would block the open forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  TG_CHECK(fd >= 0, "load_safetensors: ", system_error("cannot open", path));
  struct stat info {};
  const bool regular = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  if (!regular) {
    ::close(fd);
    TG_THROW("load_safetensors: '", path, "' is ",
             S_ISDIR(info.st_mode) ? "a directory" : "not a regular file",
             "; a safetensors file was expected");
  }
  std::string bytes(static_cast<size_t>(info.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got =
        ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    done += static_cast<size_t>(got);
  }
  const int saved = errno;
  ::close(fd);
  errno = saved;
  TG_CHECK(done == bytes.size(), "load_safetensors: ", system_error("cannot read", path));
  return parse_safetensors(path, bytes, device);
}

}  // namespace tg
