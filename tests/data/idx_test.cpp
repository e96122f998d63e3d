// The IDX reader, MNIST loading and the data sets' pixel statistics: a good file read back
// (raw and gzip), and every kind of malformed file rejected with the file and the field named.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <cmath>
#include <functional>

#include "tamegrad/core/error.h"
#include "tamegrad/data/idx.h"
#include "tamegrad/data/mnist.h"
#include "tamegrad/tests/data/idx_files.h"
#include "tamegrad/tests/support/parity.h"

namespace tg::data {
namespace {

using testing::error_of;
using testing::idx_bytes;
using testing::ScratchDir;

TEST(Idx, ReadsRawAndGzipFiles) {
  ScratchDir dir;
  const std::string body{1, 2, 3, 4, 5, 6};
  testing::write_file(dir.file("a.idx"), idx_bytes({2, 3}, body));
  testing::write_gzip(dir.file("a.idx.gz"), idx_bytes({2, 3}, body));
  for (const std::string name : {"a.idx", "a.idx.gz"}) {
    const Tensor t = read_idx(dir.file(name));
    EXPECT_EQ(t.shape(), (Shape{2, 3})) << name;
    EXPECT_EQ(t.dtype(), DType::UInt8);
    EXPECT_EQ(t.data_ptr<uint8_t>()[5], 6) << name;
  }
  EXPECT_EQ(parse_idx("empty", idx_bytes({0, 28}, "")).shape(), (Shape{0, 28}));
}

TEST(Idx, RejectsEveryMalformedHeaderOrBodyNamingTheField) {
  const std::string six{1, 2, 3, 4, 5, 6};
  struct Case {
    std::string bytes, expected;
  };
  const std::vector<Case> cases{
      {std::string(2, '\0'), "f: truncated header: 2 bytes"},
      {std::string("\x01\x00\x08\x01", 4) + "abcd", "f: wrong magic number"},
      {idx_bytes({6}, six, 0x0D), "element type code 0xd (float32) is not supported"},
      {idx_bytes({}, ""), "gives 0 dimensions"},
      {idx_bytes({2, 3}, six).substr(0, 9), "truncated header: 2 dimensions need 12 bytes"},
      {idx_bytes({2, 4}, six),
       "truncated body: dimensions [2, 4] need 8 bytes of data, the file has 6"},
      {idx_bytes({2, 2}, six), "f: 2 trailing bytes after the data of dimensions [2, 2]"},
      {idx_bytes({0x7fffffffu, 0x7fffffffu, 0x7fffffffu}, ""),
       "the product of the dimensions overflows at dimension 2"},
      {idx_bytes({0x80000000u}, ""), "dimension 0 is 2147483648, above 2^31 - 1"},
  };
  for (const Case& c : cases) {
    const std::string m = error_of([&] { parse_idx("f", c.bytes); });
    EXPECT_NE(m.find("IDX file f"), std::string::npos) << m;
    EXPECT_NE(m.find(c.expected), std::string::npos) << "expected '" << c.expected << "' in: " << m;
  }
}

TEST(Idx, RejectsFilesThatAreMissingNotGzipOrCorrupt) {
  ScratchDir dir;
  const std::string good = idx_bytes({4}, std::string{1, 2, 3, 4});
  testing::write_file(dir.file("plain.gz"), good);
  EXPECT_NE(error_of([&] {
              read_idx(dir.file("plain.gz"));
            }).find("the name ends in .gz but the file is not gzip"),
            std::string::npos);
  testing::write_gzip(dir.file("cut.gz"), std::string(4000, 'x') + good);
  {  // keep the gzip magic, cut the stream short
    FILE* f = std::fopen(dir.file("cut.gz").c_str(), "rb");
    std::string bytes(200, '\0');
    bytes.resize(std::fread(&bytes[0], 1, bytes.size(), f));
    std::fclose(f);
    testing::write_file(dir.file("cut.gz"), bytes.substr(0, bytes.size() / 2));
  }
  EXPECT_NE(
      error_of([&] { read_idx(dir.file("cut.gz")); }).find("corrupt or truncated gzip stream"),
      std::string::npos);
  EXPECT_NE(error_of([&] { read_idx(dir.file("none")); }).find("none: cannot open it"),
            std::string::npos);
}

TEST(Mnist, LoadsASplitAndChecksItsFilesAgainstEachOther) {
  ScratchDir dir;
  testing::write_mnist(dir, 30, 20);
  const MnistSplit train = load_mnist(dir.path(), true);
  EXPECT_EQ(train.images.shape(), (Shape{30, 28, 28}));
  EXPECT_EQ(train.labels.dtype(), DType::Int64);
  EXPECT_EQ(train.labels.data_ptr<int64_t>()[1], 0);  // (1·7 + 3) % 10
  EXPECT_EQ(load_mnist(dir.path(), false).labels.numel(), 20);

  testing::write_gzip(dir.file("t10k-labels-idx1-ubyte.gz"),
                      idx_bytes({19}, std::string(19, '\1')));
  EXPECT_NE(error_of([&] { load_mnist(dir.path(), false); }).find("holds 20 images but"),
            std::string::npos);
  testing::write_gzip(dir.file("t10k-labels-idx1-ubyte.gz"),
                      idx_bytes({20}, std::string(20, '\x0c')));
  EXPECT_NE(error_of([&] { load_mnist(dir.path(), false); }).find("label 0 is 12, outside [0, 10)"),
            std::string::npos);
  testing::write_gzip(dir.file("t10k-labels-idx1-ubyte.gz"),
                      idx_bytes({20, 1}, std::string(20, '\1')));
  EXPECT_NE(error_of([&] { load_mnist(dir.path(), false); }).find("labels must have 1 dimension"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              load_mnist(dir.file("nowhere"), true);
            }).find("neither train-images-idx3-ubyte.gz nor"),
            std::string::npos);
}

TEST(Mnist, NamesDataSetsAndTheirPixelStatistics) {
  EXPECT_EQ(dataset_name("/usr/share/datasets/fashion-mnist"), "fashion-mnist");
  EXPECT_EQ(dataset_name("data/mnist"), "mnist");
  EXPECT_EQ(dataset_name("/tmp/digits"), "/tmp/digits");
  EXPECT_EQ(pixel_stats("mnist").mean, 0.1307);
  EXPECT_EQ(pixel_stats("mnist").std, 0.3081);
  EXPECT_EQ(pixel_stats("/tmp/digits").mean, 0.1307);
  EXPECT_EQ(pixel_stats("fashion-mnist").mean, 0.2860);
  EXPECT_EQ(pixel_stats("fashion-mnist").std, 0.3530);
}

// The Fashion-MNIST constants are the real training set's, to the digits given.
TEST(Mnist, FashionMnistStatisticsMatchItsTrainingImages) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0)
    GTEST_SKIP() << dir << " is not installed (Debian's dataset-fashion-mnist, scripts/setup.sh)";
  const Tensor images = load_mnist(dir, true).images;
  const uint8_t* p = images.data_ptr<uint8_t>();
  double sum = 0, squares = 0;
  for (int64_t i = 0; i < images.numel(); ++i) {
    const double x = p[i] / 255.0;
    sum += x;
    squares += x * x;
  }
  const double n = static_cast<double>(images.numel());
  const double mean = sum / n;
  EXPECT_NEAR(pixel_stats("fashion-mnist").mean, mean, 5e-5);
  EXPECT_NEAR(pixel_stats("fashion-mnist").std, std::sqrt(squares / n - mean * mean), 5e-5);
}

}  // namespace
}  // namespace tg::data
