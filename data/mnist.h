// MNIST-format data sets (MNIST, Fashion-MNIST): the four IDX files of a directory, checked
// against each other, and where the trainers find them.
#pragma once

#include <string>

#include "../core/tensor.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg::data {

struct MnistSplit {
  Tensor images;  // (N, rows, cols) uint8, CPU
  Tensor labels;  // (N,) int64, CPU, each in [0, 10)
};

// Reads <dir>/train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz) (train) or the
// t10k-* pair (test). Throws naming the file when one is missing, unreadable or malformed,
// when the images are not (N, 28, 28) with N >= 1 or the labels not 1-D, when the counts
// differ, or a label is >= 10.
MnistSplit load_mnist(const std::string& dir, bool train);

// Where the data lives: `requested` when given, else $TG_DATA, else data/mnist when it holds
// MNIST, else Debian's Fashion-MNIST (/usr/share/datasets/fashion-mnist). Throws when the
// chosen directory does not exist or cannot be read, saying which.
std::string find_mnist_dir(const std::string& requested);

// The mean and standard deviation of a data set's training pixels (after / 255), which its
// loaders normalise with.
struct PixelStats {
  double mean = 0.1307;
  double std = 0.3081;
};
// Which data set a training split is, decided from its images, never from a directory name:
// their pixel statistics are measured, and when both lie within 5e-4 of Fashion-MNIST's
// (0.2860, 0.3530) or MNIST's (0.1307, 0.3081) published values, that data set's name and
// values are used; otherwise the name is "other" and the measured values are used (rounded
// to 4 decimals, as the published ones).
struct DatasetIdentity {
  std::string name;     // "fashion-mnist", "mnist" or "other"
  PixelStats stats;     // what to normalise with
  PixelStats measured;  // the images' own
};
DatasetIdentity identify_dataset(const Tensor& train_images);
// The statistics of uint8 images (any shape, at least one element), after / 255.
PixelStats measure_pixel_stats(const Tensor& images);

}  // namespace tg::data

TG_API_END
