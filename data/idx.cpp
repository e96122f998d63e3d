// IDX reader: the header checks in the order the format defines the fields, read from a
// byte source (memory, a regular file, or a gzip stream over one), then exactly the data the
// header declares and one byte more to find trailing data (Note [bounded reading]).
#include "idx.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "../core/factory.h"

namespace tg::data {

namespace {

// Note [bounded reading]: a file is read only as far as its header says. The header is read
// first; the data it declares is checked against what the file can hold (a raw file's size
// exactly; a gzip file's at most kMaxGzipRatio times its compressed size, deflate's limit)
// before anything is allocated; then exactly that many bytes are read into the tensor, and
// one more read of a byte finds trailing data. So a gzip bomb, a header declaring terabytes,
// or a link to /dev/zero costs at most the declared data, never the whole stream; and only
// regular files are opened for reading (a FIFO would block, a device never end).
constexpr uint64_t kMaxGzipRatio = 1032;  // deflate expands at most 1032:1 (zlib's FAQ)

class Source {
 public:
  virtual ~Source() = default;
  // Reads up to n bytes into dst; fewer only at the end. Throws on a read error.
  virtual size_t read(void* dst, size_t n) = 0;
  // An upper bound of the bytes left (exact when `exact_size()`).
  virtual uint64_t bound() const = 0;
  virtual bool exact_size() const = 0;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(const std::string& bytes) : bytes_(bytes) {}
  size_t read(void* dst, size_t n) override {
    const size_t got = std::min(n, bytes_.size() - at_);
    std::memcpy(dst, bytes_.data() + at_, got);
    at_ += got;
    return got;
  }
  uint64_t bound() const override { return bytes_.size() - at_; }
  bool exact_size() const override { return true; }

 private:
  const std::string& bytes_;
  size_t at_ = 0;
};

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// An open regular file. Opened without blocking (a FIFO's open would wait for a writer),
// then checked to be a regular file before any read.
class File {
 public:
  explicit File(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    TG_CHECK(fd_ >= 0, "IDX file ", path, ": cannot open it (", std::strerror(errno), ")");
    struct stat info {};
    const bool regular = ::fstat(fd_, &info) == 0 && S_ISREG(info.st_mode);
    if (!regular) {
      ::close(fd_);
      TG_THROW("IDX file ", path, ": it is ", file_kind(info.st_mode), ", not a regular file");
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
    size_ = static_cast<uint64_t>(info.st_size);
  }
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  // Hands the descriptor to someone who closes it (gzdopen).
  int release() { return std::exchange(fd_, -1); }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

class RawSource : public Source {
 public:
  RawSource(const std::string& path, File& file) : path_(path), file_(file), left_(file.size()) {}
  size_t read(void* dst, size_t n) override {
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::read(file_.fd(), static_cast<char*>(dst) + got, n - got);
      if (r < 0 && errno == EINTR) continue;
      TG_CHECK(r >= 0, "IDX file ", path_, ": read error (", std::strerror(errno), ")");
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    left_ -= std::min<uint64_t>(left_, got);
    return got;
  }
  uint64_t bound() const override { return left_; }
  bool exact_size() const override { return true; }

 private:
  const std::string& path_;
  File& file_;
  uint64_t left_;
};

// Note [gzip input]: zlib's gzread passes non-gzip input through unchanged, so a ".gz"
// name is held to the gzip magic bytes first; a stream that ends early or fails its CRC
// leaves gzerror set, which is reported rather than reading short data.
class GzipSource : public Source {
 public:
  GzipSource(const std::string& path, File& file) : path_(path) {
    unsigned char head[2] = {0, 0};
    const bool magic = ::pread(file.fd(), head, 2, 0) == 2 && head[0] == 0x1f && head[1] == 0x8b;
    TG_CHECK(magic, "IDX file ", path,
             ": the name ends in .gz but the file is not gzip (no 1f 8b magic)");
    // Headers and trailers aside, deflate cannot expand more than kMaxGzipRatio:1.
    bound_ = std::min<uint64_t>(file.size(), uint64_t{1} << 50) * kMaxGzipRatio + 1024;
    const int fd = file.release();
    gz_ = gzdopen(fd, "rb");
    if (gz_ == nullptr) ::close(fd);
    TG_CHECK(gz_ != nullptr, "IDX file ", path, ": cannot open it (zlib out of memory)");
  }
  ~GzipSource() override { gzclose(gz_); }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;
  size_t read(void* dst, size_t n) override {
    size_t got = 0;
    while (got < n) {
      const unsigned ask = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 30));
      const int r = gzread(gz_, static_cast<char*>(dst) + got, ask);
      int code = Z_OK;
      const char* message = gzerror(gz_, &code);
      TG_CHECK(r >= 0 && code == Z_OK, "IDX file ", path_,
               ": corrupt or truncated gzip stream (zlib: ", message, ")");
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    return got;
  }
  uint64_t bound() const override { return bound_; }
  bool exact_size() const override { return false; }

 private:
  const std::string& path_;
  gzFile gz_ = nullptr;
  uint64_t bound_ = 0;
};

uint32_t big_endian(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

const char* type_name(unsigned code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "not an IDX type";
  }
}

Tensor read_from(const std::string& name, Source& in) {
  const uint64_t total = in.bound();  // for the messages of exactly sized sources
  unsigned char magic[4];
  const size_t got = in.read(magic, 4);
  TG_CHECK(got == 4, "IDX file ", name, ": truncated header: ", got,
           " bytes, the magic number alone takes 4");
  TG_CHECK(magic[0] == 0 && magic[1] == 0, "IDX file ", name,
           ": wrong magic number: it must start with two zero bytes, got 0x", std::hex,
           static_cast<unsigned>(magic[0]), " 0x", static_cast<unsigned>(magic[1]));
  TG_CHECK(magic[2] == 0x08, "IDX file ", name, ": element type code 0x", std::hex,
           static_cast<unsigned>(magic[2]), std::dec, " (", type_name(magic[2]),
           ") is not supported; only unsigned bytes (0x08) are read");
  const size_t dims = magic[3];
  TG_CHECK(dims >= 1, "IDX file ", name, ": the magic number gives 0 dimensions");
  const size_t header = 4 + 4 * dims;
  unsigned char sizes[4 * 255];
  const size_t got_sizes = in.read(sizes, 4 * dims);
  TG_CHECK(got_sizes == 4 * dims, "IDX file ", name, ": truncated header: ", dims,
           " dimensions need ", header, " bytes, the file has ", 4 + got_sizes);
  Shape shape;
  // `span` multiplies the sizes with 0 counted as 1: a tensor's strides must fit in 64 bits
  // even when a 0 dimension leaves it no elements.
  uint64_t count = 1, span = 1;
  for (size_t d = 0; d < dims; ++d) {
    const uint32_t size = big_endian(sizes + 4 * d);
    TG_CHECK(size <= (uint32_t{1} << 31) - 1, "IDX file ", name, ": dimension ", d, " is ", size,
             ", above 2^31 - 1");
    TG_CHECK(!__builtin_mul_overflow(span, uint64_t{std::max(size, 1u)}, &span) &&
                 span < (uint64_t{1} << 62),
             "IDX file ", name, ": the product of the dimensions overflows at dimension ", d);
    count *= size;
    shape.push_back(static_cast<int64_t>(size));
  }
  // Checked against what the file can hold before anything is allocated.
  if (in.exact_size()) {
    const uint64_t body = total - header;
    TG_CHECK(body >= count, "IDX file ", name, ": truncated body: dimensions ", shape, " need ",
             count, " bytes of data, the file has ", body);
    TG_CHECK(body == count, "IDX file ", name, ": ", body - count,
             " trailing bytes after the data of dimensions ", shape);
  } else {
    TG_CHECK(count <= in.bound(), "IDX file ", name, ": truncated body: dimensions ", shape,
             " need ", count, " bytes of data, more than the compressed file can hold (",
             in.bound(), " bytes at most)");
  }
  Tensor out = empty(shape, TensorOptions(DType::UInt8));
  const size_t body = count > 0 ? in.read(out.raw_data_ptr(), count) : 0;
  TG_CHECK(body == count, "IDX file ", name, ": truncated body: dimensions ", shape, " need ",
           count, " bytes of data, the file has ", body);
  char extra = 0;
  TG_CHECK(in.read(&extra, 1) == 0, "IDX file ", name,
           ": trailing bytes after the data of dimensions ", shape,
           " (the stream goes on past what the header declares)");
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Tensor parse_idx(const std::string& name, const std::string& bytes) {
  MemorySource in(bytes);
  return read_from(name, in);
}

Tensor read_idx(const std::string& path) {
  File file(path);
  if (ends_with(path, ".gz")) {
    GzipSource in(path, file);
    return read_from(path, in);
  }
  RawSource in(path, file);
  return read_from(path, in);
}

}  // namespace tg::data
