// The IDX file format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a 4-byte
// magic number (two zero bytes, an element type code, the number of dimensions), each
// dimension as a big-endian uint32, then the elements in row-major order. Files may be
// gzip-compressed (".gz"). Only unsigned bytes (type code 0x08) are read: every MNIST-format
// data set uses them.
#pragma once

#include <string>

#include "../core/tensor.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg::data {

// The whole file as a uint8 CPU tensor of the file's dimensions. A name ending in ".gz"
// must be gzip; any other is read raw. Throws tg::Error naming the file and the field for
// a wrong magic number or type code, a truncated header or body, a dimension product that
// overflows, trailing bytes, or a corrupt gzip stream.
Tensor read_idx(const std::string& path);

// Parses IDX bytes already in memory; `name` is the file name used in messages.
Tensor parse_idx(const std::string& name, const std::string& bytes);

}  // namespace tg::data

TG_API_END
