#include "tamegrad/data/mnist.h"

#include <sys/stat.h>

#include <cstdlib>

#include "tamegrad/core/factory.h"
#include "tamegrad/data/idx.h"

namespace tg::data {

namespace {

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

// The .gz file when present, else the raw one.
std::string idx_path(const std::string& dir, const std::string& stem) {
  const std::string gz = dir + "/" + stem + ".gz", raw = dir + "/" + stem;
  if (exists(gz)) return gz;
  TG_CHECK(exists(raw), "MNIST data in ", dir, ": neither ", stem, ".gz nor ", stem, " exists");
  return raw;
}

}  // namespace

MnistSplit load_mnist(const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  const std::string image_file = idx_path(dir, prefix + "-images-idx3-ubyte");
  const std::string label_file = idx_path(dir, prefix + "-labels-idx1-ubyte");
  const Tensor images = read_idx(image_file);
  const Tensor labels = read_idx(label_file);
  TG_CHECK(images.dim() == 3, "IDX file ", image_file,
           ": images must have 3 dimensions (N, rows, "
           "cols), got ",
           images.shape());
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
    } else if (exists("data/mnist/train-images-idx3-ubyte.gz") ||
               exists("data/mnist/train-images-idx3-ubyte")) {
      dir = "data/mnist";
    } else {
      dir = "/usr/share/datasets/fashion-mnist";
    }
  }
  TG_CHECK(exists(dir), "data directory ", dir, " does not exist",
           requested.empty() ? " (install Debian's dataset-fashion-mnist: scripts/setup.sh)" : "");
  return dir;
}

std::string dataset_name(const std::string& dir) {
  if (dir.find("fashion") != std::string::npos) return "fashion-mnist";
  if (dir.find("mnist") != std::string::npos) return "mnist";
  return dir;
}

PixelStats pixel_stats(const std::string& dataset) {
  if (dataset == "fashion-mnist") return {0.2860, 0.3530};
  return {};
}

}  // namespace tg::data
