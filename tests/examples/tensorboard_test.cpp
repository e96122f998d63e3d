// The TensorBoard event writer (train/tensorboard.h): CRC-32C against its
// published check values, and every record of a written file framed and checksummed as
// TFRecord readers expect. TensorBoard's own reader checks the values (python_interop).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "../../train/tensorboard.h"
#include "../support/scratch_dir.h"

namespace tg::train {
namespace {

uint32_t masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

TEST(TensorBoard, Crc32cKnownAnswers) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the CRC catalogue's check value
  const std::string zeros(32, '\0'), ones(32, '\xff');
  EXPECT_EQ(crc32c(zeros.data(), 32), 0x8A9136AAu);  // RFC 3720, B.4
  EXPECT_EQ(crc32c(ones.data(), 32), 0x62A8AB43u);
}

TEST(TensorBoard, EveryRecordIsFramedAndChecksummed) {
  const testing::ScratchDir scratch;
  std::string path;
  {
    EventWriter w(scratch.file("logs"));
    w.scalar("train_loss", 1, 0.5);
    w.scalar("test_accuracy", 1, 0.875);
    path = w.path();
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  size_t at = 0;
  int records = 0;
  while (at < bytes.size()) {
    ASSERT_LE(at + 12, bytes.size());
    uint64_t n;
    uint32_t n_crc, data_crc;
    std::memcpy(&n, bytes.data() + at, 8);
    std::memcpy(&n_crc, bytes.data() + at + 8, 4);
    EXPECT_EQ(n_crc, masked(crc32c(bytes.data() + at, 8))) << "record " << records;
    ASSERT_LE(at + 12 + n + 4, bytes.size());
    std::memcpy(&data_crc, bytes.data() + at + 12 + n, 4);
    EXPECT_EQ(data_crc, masked(crc32c(bytes.data() + at + 12, n))) << "record " << records;
    if (records == 0) {
      EXPECT_NE(bytes.substr(at + 12, n).find("brain.Event:2"), std::string::npos);
    }
    at += 12 + n + 4;
    ++records;
  }
  EXPECT_EQ(records, 3);
  EXPECT_NE(bytes.find("train_loss"), std::string::npos);
}

}  // namespace
}  // namespace tg::train
