#include "mnist.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "../core/factory.h"
#include "idx.h"

namespace tg::data {

namespace {

// Whether `path` exists; any other failure than "no such file" (a symlink loop, a directory
// that cannot be searched) is an error that says what happened.
bool exists(const std::string& path, const char* what) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) return true;
  TG_CHECK(errno == ENOENT || errno == ENOTDIR, what, " ", path, ": cannot look at it (",
           std::strerror(errno), ")");
  return false;
}

// The .gz file when present, else the raw one.
std::string idx_path(const std::string& dir, const std::string& stem) {
  const std::string gz = dir + "/" + stem + ".gz", raw = dir + "/" + stem;
  if (exists(gz, "IDX file")) return gz;
  TG_CHECK(exists(raw, "IDX file"), "MNIST data in ", dir, ": neither ", stem, ".gz nor ", stem,
           " exists");
  return raw;
}

}  // namespace

MnistSplit load_mnist(const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  const std::string image_file = idx_path(dir, prefix + "-images-idx3-ubyte");
  const std::string label_file = idx_path(dir, prefix + "-labels-idx1-ubyte");
  const Tensor images = read_idx(image_file);
  TG_CHECK(images.dim() == 3, "IDX file ", image_file,
           ": images must have 3 dimensions (N, rows, cols), got ", images.shape());
  TG_CHECK(images.size(1) == 28 && images.size(2) == 28, "IDX file ", image_file,
           ": images must be 28x28 (MNIST's format, which the models are built for), got ",
           images.size(1), "x", images.size(2), " (dimensions ", images.shape(), ")");
  TG_CHECK(images.size(0) > 0, "IDX file ", image_file, ": it holds no images (dimensions ",
           images.shape(), ")");
  const Tensor labels = read_idx(label_file);
  TG_CHECK(labels.dim() == 1, "IDX file ", label_file, ": labels must have 1 dimension, got ",
           labels.shape());
  TG_CHECK(images.size(0) == labels.size(0), "MNIST data in ", dir, ": ", image_file, " holds ",
           images.size(0), " images but ", label_file, " holds ", labels.size(0), " labels");
  const uint8_t* l = labels.data_ptr<uint8_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) {
    TG_CHECK(l[i] < 10, "IDX file ", label_file, ": label ", i, " is ", static_cast<int>(l[i]),
             ", outside [0, 10)");
  }
  return {images, labels.to(DType::Int64)};
}

std::string find_mnist_dir(const std::string& requested) {
  std::string dir = requested;
  if (dir.empty()) {
    const char* env = std::getenv("TG_DATA");
    if (env != nullptr && *env != '\0') {
      dir = env;
    } else if (exists("data/mnist/train-images-idx3-ubyte.gz", "IDX file") ||
               exists("data/mnist/train-images-idx3-ubyte", "IDX file")) {
      dir = "data/mnist";
    } else {
      dir = "/usr/share/datasets/fashion-mnist";
    }
  }
  TG_CHECK(exists(dir, "data directory"), "data directory ", dir, " does not exist",
           requested.empty() ? " (install Debian's dataset-fashion-mnist: scripts/setup.sh)" : "");
  struct stat info {};
  ::stat(dir.c_str(), &info);
  TG_CHECK(S_ISDIR(info.st_mode), "data directory ", dir, " is not a directory");
  TG_CHECK(::access(dir.c_str(), R_OK | X_OK) == 0, "data directory ", dir, ": cannot read it (",
           std::strerror(errno), ")");
  return dir;
}

PixelStats measure_pixel_stats(const Tensor& images) {
  TG_CHECK(images.dtype() == DType::UInt8 && images.numel() > 0,
           "measure_pixel_stats: needs uint8 images with at least one pixel, got ", images.dtype(),
           " ", images.shape());
  // A histogram, then exact sums over it: the same numbers however the pixels are ordered.
  std::array<uint64_t, 256> histogram{};
  const Tensor c = images.contiguous();
  const uint8_t* p = c.data_ptr<uint8_t>();
  const int64_t count = c.numel();  // once: a library call the loop cannot hoist
  for (int64_t i = 0; i < count; ++i) ++histogram[p[i]];
  double sum = 0, squares = 0;
  for (int v = 0; v < 256; ++v) {
    const double x = v / 255.0, n = static_cast<double>(histogram[v]);
    sum += n * x;
    squares += n * x * x;
  }
  const double n = static_cast<double>(count);
  const double mean = sum / n;
  return {mean, std::sqrt(std::max(0.0, squares / n - mean * mean))};
}

DatasetIdentity identify_dataset(const Tensor& train_images) {
  const PixelStats measured = measure_pixel_stats(train_images);
  struct Known {
    const char* name;
    PixelStats stats;
  };
  for (const Known& known : {Known{"fashion-mnist", {0.2860, 0.3530}}, Known{"mnist", {}}}) {
    if (std::abs(measured.mean - known.stats.mean) <= 5e-4 &&
        std::abs(measured.std - known.stats.std) <= 5e-4) {
      return {known.name, known.stats, measured};
    }
  }
  const auto round4 = [](double v) { return std::round(v * 1e4) / 1e4; };
  return {"other", {round4(measured.mean), std::max(1e-4, round4(measured.std))}, measured};
}

}  // namespace tg::data
