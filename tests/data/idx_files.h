// Test helpers: IDX bytes and files (raw or gzip) built from parts, in a scratch directory.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "../support/scratch_dir.h"

namespace tg::testing {

// IDX bytes: magic (0, 0, type, dims.size()), big-endian dims, then `body`.
inline std::string idx_bytes(const std::vector<uint32_t>& dims, const std::string& body,
                             unsigned type = 0x08) {
  std::string out{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(d >> shift));
  }
  return out + body;
}

inline void write_file(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

inline void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(gz);
}

// An MNIST-format data set of `train` and `test` 28x28 images: noise in [0, 128) plus a
// faint band at a label-dependent row, so a model learns it, but not in one step.
inline void write_mnist(const ScratchDir& dir, int train, int test) {
  for (const auto& [prefix, count] :
       {std::pair<std::string, int>{"train", train}, {"t10k", test}}) {
    std::string images, labels;
    uint32_t state = 12345u + static_cast<uint32_t>(count);
    for (int i = 0; i < count; ++i) {
      const int label = (i * 7 + 3) % 10;
      labels.push_back(static_cast<char>(label));
      for (int p = 0; p < 28 * 28; ++p) {
        state = state * 1664525u + 1013904223u;
        const int row = p / 28;
        const int band = row >= 2 + 2 * label && row < 4 + 2 * label ? 60 : 0;
        images.push_back(static_cast<char>(band + static_cast<int>(state >> 25)));
      }
    }
    const uint32_t n = static_cast<uint32_t>(count);
    write_gzip(dir.file(prefix + "-images-idx3-ubyte.gz"), idx_bytes({n, 28, 28}, images));
    write_gzip(dir.file(prefix + "-labels-idx1-ubyte.gz"), idx_bytes({n}, labels));
  }
}

}  // namespace tg::testing
