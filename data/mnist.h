// MNIST-format data sets (MNIST, Fashion-MNIST): the four IDX files of a directory, checked
// against each other, and where the trainers find them.
#pragma once

#include <string>

#include "tamegrad/config.h"
#include "tamegrad/core/tensor.h"

TG_API_BEGIN

namespace tg::data {

struct MnistSplit {
  Tensor images;  // (N, rows, cols) uint8, CPU
  Tensor labels;  // (N,) int64, CPU, each in [0, 10)
};

// Reads <dir>/train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz) (train) or the
// t10k-* pair (test). Throws naming the file when one is missing or malformed, when the
// images are not 3-D or the labels not 1-D, when the counts differ, or a label is >= 10.
MnistSplit load_mnist(const std::string& dir, bool train);

// Where the data lives: `requested` when given, else $TG_DATA, else data/mnist when it holds
// MNIST, else Debian's Fashion-MNIST (/usr/share/datasets/fashion-mnist). Throws when the
// chosen directory does not exist.
std::string find_mnist_dir(const std::string& requested);
// "mnist" or "fashion-mnist" from the directory name (for logs), else the directory itself.
std::string dataset_name(const std::string& dir);

// The mean and standard deviation of a data set's training pixels (after / 255), which its
// loaders normalise with: Fashion-MNIST's (0.2860, 0.3530) for "fashion-mnist", MNIST's
// (0.1307, 0.3081) for anything else.
struct PixelStats {
  double mean = 0.1307;
  double std = 0.3081;
};
PixelStats pixel_stats(const std::string& dataset);

}  // namespace tg::data

TG_API_END
