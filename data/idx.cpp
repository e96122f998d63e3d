// IDX reader: the file's bytes (through zlib for .gz), then the header checks in the order
// the format defines the fields.
#include "tamegrad/data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "tamegrad/core/factory.h"

namespace tg::data {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_raw(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  TG_CHECK(file != nullptr, "IDX file ", path, ": cannot open it (", std::strerror(errno), ")");
  std::string bytes;
  char chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) bytes.append(chunk, got);
  TG_CHECK(!std::ferror(file.get()), "IDX file ", path, ": read error");
  return bytes;
}

// Note [gzip input]: zlib's gzread passes non-gzip input through unchanged, so a ".gz"
// name is held to the gzip magic bytes first; a stream that ends early or fails its CRC
// leaves gzerror set, which is reported rather than reading short data.
std::string read_gzip(const std::string& path) {
  unsigned char head[2] = {0, 0};
  {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    TG_CHECK(file != nullptr, "IDX file ", path, ": cannot open it (", std::strerror(errno), ")");
    if (std::fread(head, 1, 2, file.get()) != 2) head[0] = 0;
  }
  TG_CHECK(head[0] == 0x1f && head[1] == 0x8b, "IDX file ", path,
           ": the name ends in .gz but the file is not gzip (no 1f 8b magic)");
  gzFile gz = gzopen(path.c_str(), "rb");
  TG_CHECK(gz != nullptr, "IDX file ", path, ": cannot open it (", std::strerror(errno), ")");
  std::string bytes;
  char chunk[1 << 16];
  int got;
  while ((got = gzread(gz, chunk, sizeof chunk)) > 0) bytes.append(chunk, static_cast<size_t>(got));
  int code = Z_OK;
  const std::string message = gzerror(gz, &code);
  gzclose(gz);
  TG_CHECK(got == 0 && code == Z_OK, "IDX file ", path,
           ": corrupt or truncated gzip stream (zlib: ", message, ")");
  return bytes;
}

uint32_t big_endian(const std::string& bytes, size_t at) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data() + at);
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

}  // namespace

Tensor parse_idx(const std::string& name, const std::string& bytes) {
  TG_CHECK(bytes.size() >= 4, "IDX file ", name, ": truncated header: ", bytes.size(),
           " bytes, the magic number alone takes 4");
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  TG_CHECK(b[0] == 0 && b[1] == 0, "IDX file ", name,
           ": wrong magic number: it must start with two zero bytes, got 0x", std::hex,
           static_cast<unsigned>(b[0]), " 0x", static_cast<unsigned>(b[1]));
  TG_CHECK(b[2] == 0x08, "IDX file ", name, ": element type code 0x", std::hex,
           static_cast<unsigned>(b[2]), std::dec, " (", type_name(b[2]),
           ") is not supported; only unsigned bytes (0x08) are read");
  const size_t dims = b[3];
  TG_CHECK(dims >= 1, "IDX file ", name, ": the magic number gives 0 dimensions");
  const size_t header = 4 + 4 * dims;
  TG_CHECK(bytes.size() >= header, "IDX file ", name, ": truncated header: ", dims,
           " dimensions need ", header, " bytes, the file has ", bytes.size());
  Shape shape;
  uint64_t count = 1;
  for (size_t d = 0; d < dims; ++d) {
    const uint32_t size = big_endian(bytes, 4 + 4 * d);
    TG_CHECK(size <= (uint32_t{1} << 31) - 1, "IDX file ", name, ": dimension ", d, " is ", size,
             ", above 2^31 - 1");
    TG_CHECK(!__builtin_mul_overflow(count, uint64_t{size}, &count) && count < (uint64_t{1} << 62),
             "IDX file ", name, ": the product of the dimensions overflows at dimension ", d);
    shape.push_back(static_cast<int64_t>(size));
  }
  const uint64_t body = bytes.size() - header;
  TG_CHECK(body >= count, "IDX file ", name, ": truncated body: dimensions ", shape, " need ",
           count, " bytes of data, the file has ", body);
  TG_CHECK(body == count, "IDX file ", name, ": ", body - count,
           " trailing bytes after the data of dimensions ", shape);
  Tensor out = empty(shape, TensorOptions(DType::UInt8));
  if (count > 0) std::memcpy(out.raw_data_ptr(), bytes.data() + header, count);
  return out;
}

Tensor read_idx(const std::string& path) {
  return parse_idx(path, ends_with(path, ".gz") ? read_gzip(path) : read_raw(path));
}

}  // namespace tg::data
