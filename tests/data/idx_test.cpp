// The IDX reader, MNIST loading and the data sets' pixel statistics: a good file read back
// (raw and gzip), and every kind of malformed file rejected with the file and the field named.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <functional>

#include "../../core/factory.h"
#include "../../data/idx.h"
#include "../../data/mnist.h"
#include "../../foundation/error.h"
#include "../support/parity.h"
#include "idx_files.h"

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
      // No elements, but the strides of the other dimensions would overflow (found by fuzzing).
      {idx_bytes({0, 0x7fffffffu, 0x7fffffffu, 0x7fffffffu}, ""),
       "the product of the dimensions overflows at dimension 3"},
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

TEST(Mnist, RefusesEmptySplitsAndImagesThatAreNot28By28NamingTheFile) {
  ScratchDir dir;
  testing::write_mnist(dir, 3, 2);
  testing::write_gzip(dir.file("train-images-idx3-ubyte.gz"), idx_bytes({0, 28, 28}, ""));
  testing::write_gzip(dir.file("train-labels-idx1-ubyte.gz"), idx_bytes({0}, ""));
  std::string m = error_of([&] { load_mnist(dir.path(), true); });
  EXPECT_NE(m.find("train-images-idx3-ubyte.gz: it holds no images (dimensions [0, 28, 28])"),
            std::string::npos)
      << m;
  testing::write_gzip(dir.file("t10k-images-idx3-ubyte.gz"),
                      idx_bytes({2, 32, 32}, std::string(2 * 32 * 32, '\1')));
  m = error_of([&] { load_mnist(dir.path(), false); });
  EXPECT_NE(m.find("t10k-images-idx3-ubyte.gz: images must be 28x28"), std::string::npos) << m;
  EXPECT_NE(m.find("got 32x32 (dimensions [2, 32, 32])"), std::string::npos) << m;
}

// Note [bounded reading]: what is not a regular file is refused before any read (a FIFO
// would block forever), and a broken path says what is wrong with it.
TEST(Idx, RefusesWhatIsNotARegularFileAndSaysWhatIsWrongWithAPath) {
  ScratchDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo.gz").c_str(), 0600), 0);
  ASSERT_EQ(::symlink("/dev/zero", dir.file("zero.gz").c_str()), 0);
  ASSERT_EQ(::symlink("/dev/zero", dir.file("zero").c_str()), 0);
  ASSERT_EQ(::mkdir(dir.file("sub").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(dir.file("loop").c_str(), dir.file("loop").c_str()), 0);
  const std::pair<const char*, const char*> cases[] = {
      {"fifo.gz", "fifo.gz: it is a FIFO (named pipe), not a regular file"},
      {"zero.gz", "zero.gz: it is a character device, not a regular file"},
      {"zero", "zero: it is a character device, not a regular file"},
      {"sub", "sub: it is a directory, not a regular file"},
      {"loop", "loop: cannot open it (Too many levels of symbolic links)"},
  };
  for (const auto& [name, expected] : cases) {
    const std::string m = error_of([&] { read_idx(dir.file(name)); });
    EXPECT_NE(m.find(expected), std::string::npos) << m;
  }
  const std::string m = error_of([&] { load_mnist(dir.file("loop"), true); });
  EXPECT_NE(m.find("cannot look at it (Too many levels of symbolic links)"), std::string::npos)
      << m;
  EXPECT_NE(error_of([&] { find_mnist_dir(dir.file("loop")); }).find("Too many levels"),
            std::string::npos);
  EXPECT_NE(error_of([&] { find_mnist_dir(dir.file("zero")); }).find("is not a directory"),
            std::string::npos);
}

// The peak resident memory of a child process running `body`, above the parent's at fork.
long child_peak_kib(const std::function<void()>& body) {
  long resident_pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long size = 0;
    if (std::fscanf(f, "%ld %ld", &size, &resident_pages) != 2) resident_pages = 0;
    std::fclose(f);
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    try {
      body();
    } catch (...) {
    }
    ::_exit(0);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  return usage.ru_maxrss - resident_pages * (::sysconf(_SC_PAGESIZE) / 1024);
}

// A gzip file of 1000 valid images followed by 512 MiB of zeros (about 0.5 MB compressed),
// and one whose header declares far more than its size can inflate to: both refused, and
// neither costs more memory than the data the header declares (the reader once inflated the
// whole stream first).
TEST(Idx, ABombOrAnOverstatedHeaderCostsAtMostTheDeclaredData) {
  ScratchDir dir;
  {
    gzFile gz = gzopen(dir.file("bomb.gz").c_str(), "wb1");
    const std::string head = idx_bytes({1000, 28, 28}, std::string(1000 * 28 * 28, '\7'));
    gzwrite(gz, head.data(), static_cast<unsigned>(head.size()));
    const std::string zeros(1 << 20, '\0');
    for (int i = 0; i < 512; ++i) gzwrite(gz, zeros.data(), static_cast<unsigned>(zeros.size()));
    gzclose(gz);
  }
  std::string m = error_of([&] { read_idx(dir.file("bomb.gz")); });
  EXPECT_NE(m.find("bomb.gz: trailing bytes after the data of dimensions [1000, 28, 28]"),
            std::string::npos)
      << m;
  EXPECT_LT(child_peak_kib([&] { read_idx(dir.file("bomb.gz")); }), 32 * 1024);

  testing::write_gzip(dir.file("big.gz"), idx_bytes({60000, 60000, 28}, std::string(100, '\1')));
  m = error_of([&] { read_idx(dir.file("big.gz")); });
  EXPECT_NE(m.find("need 100800000000 bytes of data, more than the compressed file can hold"),
            std::string::npos)
      << m;
  EXPECT_LT(child_peak_kib([&] { read_idx(dir.file("big.gz")); }), 32 * 1024);
  // The same header in a raw file is refused by the file's size.
  testing::write_file(dir.file("big.idx"), idx_bytes({60000, 60000, 28}, std::string(100, '\1')));
  EXPECT_NE(error_of([&] {
              read_idx(dir.file("big.idx"));
            }).find("truncated body: dimensions [60000, 60000, 28] need 100800000000 bytes"),
            std::string::npos);
}

TEST(Mnist, TheDataSetIsRecognizedFromItsImagesNotItsDirectoryName) {
  // Noise: neither data set, so its own statistics, rounded to 4 decimals.
  const Tensor noise = full({10, 28, 28}, 51.0, DType::UInt8);
  noise.view({-1}).slice(0, 0, 3920).fill_(102.0);
  const DatasetIdentity other = identify_dataset(noise);
  EXPECT_EQ(other.name, "other");
  EXPECT_DOUBLE_EQ(other.measured.mean, 0.3);
  EXPECT_NEAR(other.measured.std, 0.1, 1e-12);
  EXPECT_EQ(other.stats.mean, 0.3);
  EXPECT_EQ(other.stats.std, 0.1);
  // A constant image set keeps a usable std.
  EXPECT_GT(identify_dataset(full({1, 28, 28}, 9.0, DType::UInt8)).stats.std, 0);
  EXPECT_NE(error_of([&] {
              measure_pixel_stats(zeros({0, 28, 28}, DType::UInt8));
            }).find("at least one pixel"),
            std::string::npos);
}

// Fashion-MNIST is recognised from its training images in a directory whose name says
// nothing (it was once picked by the name, and normalised with MNIST's values elsewhere); its
// published constants are the measured ones to the digits given.
TEST(Mnist, FashionMnistIsRecognizedUnderAnyDirectoryName) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0)
    GTEST_SKIP() << dir << " is not installed (Debian's dataset-fashion-mnist, scripts/setup.sh)";
  ScratchDir scratch;
  ASSERT_EQ(::symlink(dir.c_str(), scratch.file("digits").c_str()), 0);
  const DatasetIdentity identity =
      identify_dataset(load_mnist(scratch.file("digits"), true).images);
  EXPECT_EQ(identity.name, "fashion-mnist");
  EXPECT_EQ(identity.stats.mean, 0.2860);
  EXPECT_EQ(identity.stats.std, 0.3530);
  EXPECT_NEAR(identity.measured.mean, 0.2860, 5e-5);
  EXPECT_NEAR(identity.measured.std, 0.3530, 5e-5);
}

}  // namespace
}  // namespace tg::data
