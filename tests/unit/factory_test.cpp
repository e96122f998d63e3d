// Factory functions on the CPU: shapes, dtypes and values.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/factory.h"
#include "../support/parity.h"

namespace tg {
namespace {

TEST(Factory, EmptyHasContiguousLayout) {
  const Tensor t = empty({2, 3, 4}, DType::Float64);
  EXPECT_EQ(t.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.dtype(), DType::Float64);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_TRUE(t.device().is_cpu());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data_ptr()) % 64, 0u)
      << "CPU memory is 64-byte aligned";
}

TEST(Factory, ZeroSizedAndScalarShapes) {
  EXPECT_EQ(zeros({0}).numel(), 0);
  EXPECT_EQ(zeros({3, 0, 2}).numel(), 0);
  const Tensor scalar = full({}, 2.5);
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_EQ(scalar.item<double>(), 2.5);
}

TEST(Factory, FullInEveryDtype) {
  EXPECT_EQ(full({1}, 7.0, DType::Int64).item<int64_t>(), 7);
  EXPECT_EQ(full({1}, 255.0, DType::UInt8).item<uint8_t>(), 255);
  EXPECT_EQ(ones({1}, DType::Float64).item<double>(), 1.0);
  EXPECT_EQ(zeros({1}).item<float>(), 0.0f);
  const Tensor t = full({5}, -1.25);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.data_ptr<float>()[i], -1.25f);
}

// A constant fill stores its value in every element, on both sides of the threading
// threshold, -0.0 included (as torch.full: the sign survives).
TEST(Factory, FullStoresTheValueEverywhereSignedZeroIncluded) {
  for (int64_t n : {int64_t(1), int64_t(17), int64_t(1) << 16, (int64_t(1) << 18) + 5}) {
    const Tensor f = full({n}, -0.0);
    const Tensor d = full({n}, 3.5, DType::Float64);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_TRUE(std::signbit(f.data_ptr<float>()[i])) << n << " " << i;
      ASSERT_EQ(f.data_ptr<float>()[i], 0.0f);
      ASSERT_EQ(d.data_ptr<double>()[i], 3.5);
    }
  }
}

TEST(Factory, ArangeMatchesTorchLengthRule) {
  EXPECT_TRUE(testing::tensors_bitwise_equal(arange(5.0, DType::Int64),
                                             from_vector(std::vector<int64_t>{0, 1, 2, 3, 4})));
  EXPECT_EQ(arange(0, 1, 0.3).numel(), 4);  // 0, 0.3, 0.6, 0.9
  EXPECT_EQ(arange(1, 0, -0.25).numel(), 4);
  EXPECT_EQ(arange(3, 3).numel(), 0);
  EXPECT_EQ(arange(3, 1).numel(), 0);
  const Tensor t = arange(1, 0, -0.25, DType::Float64);
  EXPECT_TRUE(
      testing::tensors_bitwise_equal(t, from_vector(std::vector<double>{1, 0.75, 0.5, 0.25})));
}

TEST(Factory, FromVectorKeepsRowMajorOrder) {
  const Tensor t = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.dtype(), DType::Float64);
  EXPECT_EQ(t.select(0, 1).select(0, 0).item<double>(), 4.0);
  EXPECT_EQ(from_vector(std::vector<uint8_t>{9}).item<int64_t>(), 9);
}

}  // namespace
}  // namespace tg
