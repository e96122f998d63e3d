// copy_, fill_, to(dtype), clone and item on the CPU: conversions, strided destinations
// (with guard values around them) and overlapping copies.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/factory.h"
#include "../support/parity.h"

namespace tg {
namespace {

TEST(TensorCopy, ConversionsAreDefinedForEveryValue) {
  const Tensor f = from_vector(std::vector<double>{-2.7, -0.5, 0.5, 2.7, 300.0, NAN, 1e30});
  EXPECT_TRUE(testing::tensors_bitwise_equal(
      f.to(DType::Int64), from_vector(std::vector<int64_t>{-2, 0, 0, 2, 300, 0, INT64_MAX})));
  // uint8 keeps the low 8 bits of the truncated value: -2 -> 254, 300 -> 44.
  EXPECT_TRUE(testing::tensors_bitwise_equal(
      f.to(DType::UInt8), from_vector(std::vector<uint8_t>{254, 0, 0, 2, 44, 0, 255})));
  EXPECT_EQ(from_vector(std::vector<int64_t>{-1}).to(DType::UInt8).item<int64_t>(), 255);
  EXPECT_EQ(from_vector(std::vector<uint8_t>{200}).to(DType::Float32).item<float>(), 200.0f);
}

TEST(TensorCopy, ToReturnsItselfWhenNothingChanges) {
  const Tensor t = ones({3});
  EXPECT_TRUE(t.to(DType::Float32).is_alias_of(t));
  EXPECT_TRUE(t.to(Device::cpu()).is_alias_of(t));
  EXPECT_TRUE(t.contiguous().is_alias_of(t));
  EXPECT_FALSE(t.clone().is_alias_of(t));
}

TEST(TensorCopy, CopyIntoStridedViewLeavesGuardsAlone) {
  // A 3x4 window, every other column, inside a guard-filled 6x9 buffer.
  Tensor buffer = full({6, 9}, -777.0, DType::Float64);
  Tensor window = buffer.slice(0, 2, 5).slice(1, 1, 9, 2);
  ASSERT_EQ(window.shape(), (Shape{3, 4}));
  window.copy_(arange(12.0).view({3, 4}));
  const double* b = buffer.data_ptr<double>();
  int written = 0;
  for (int r = 0; r < 6; ++r) {
    for (int c = 0; c < 9; ++c) {
      const bool inside = r >= 2 && r < 5 && c % 2 == 1;
      if (inside) {
        EXPECT_EQ(b[r * 9 + c], (r - 2) * 4 + (c - 1) / 2) << r << "," << c;
        ++written;
      } else {
        EXPECT_EQ(b[r * 9 + c], -777.0) << "guard overwritten at " << r << "," << c;
      }
    }
  }
  EXPECT_EQ(written, 12);
}

TEST(TensorCopy, OverlappingCopyReadsTheOldValues) {
  Tensor t = arange(6.0, DType::Int64);
  t.slice(0, 1, 6).copy_(t.slice(0, 0, 5));  // shift right by one
  EXPECT_TRUE(
      testing::tensors_bitwise_equal(t, from_vector(std::vector<int64_t>{0, 0, 1, 2, 3, 4})));
  Tensor m = arange(4.0).view({2, 2});
  m.copy_(m.transpose(0, 1));
  EXPECT_TRUE(
      testing::tensors_bitwise_equal(m, from_vector(std::vector<float>{0, 2, 1, 3}, {2, 2})));
}

TEST(TensorCopy, FillOnNonContiguousView) {
  Tensor t = zeros({4, 4}, DType::Int64);
  t.transpose(0, 1).slice(0, 1, 3).fill_(9);  // columns 1 and 2
  const Tensor expected =
      from_vector(std::vector<int64_t>{0, 9, 9, 0, 0, 9, 9, 0, 0, 9, 9, 0, 0, 9, 9, 0}, {4, 4});
  EXPECT_TRUE(testing::tensors_bitwise_equal(t, expected));
}

TEST(TensorCopy, ItemConvertsAndNeedsOneElement) {
  EXPECT_EQ(full({1, 1}, 3.75).item<double>(), 3.75);
  EXPECT_EQ(full({1}, 3.75).item<int64_t>(), 3);
  EXPECT_THROW(zeros({2}).item<float>(), Error);
  EXPECT_THROW(zeros({0}).item<float>(), Error);
}

TEST(TensorCopy, CopyBumpsVersionAndEmptyCopyIsNoOp) {
  Tensor t = zeros({2});
  const int64_t before = t.version();
  t.copy_(ones({2}));
  EXPECT_EQ(t.version(), before + 1);
  Tensor e = zeros({0});
  EXPECT_NO_THROW(e.copy_(zeros({0}, DType::Int64)));
}

}  // namespace
}  // namespace tg
