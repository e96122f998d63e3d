// The comparison helpers must be able to fail: a helper that always passes would hide
// every CUDA bug.
#include <gtest/gtest.h>

#include <cmath>

#include "../support/parity.h"

namespace tg {
namespace {

TEST(ParityHelper, ToleranceIsAtolPlusRtolTimesReference) {
  const Tensor ref = from_vector(std::vector<double>{1.0, 100.0});
  EXPECT_TRUE(testing::tensors_close(from_vector(std::vector<double>{1.0 + 1.5e-6, 100.0 + 1e-4}),
                                     ref, 1e-6, 1e-6));
  EXPECT_FALSE(
      testing::tensors_close(from_vector(std::vector<double>{1.0 + 3e-6, 100.0}), ref, 1e-6, 1e-6));
}

TEST(ParityHelper, ReportsFirstBadIndexAndCount) {
  const Tensor ref = zeros({2, 3}, DType::Float64);
  Tensor bad = zeros({2, 3}, DType::Float64);
  bad.select(0, 1).select(0, 1).fill_(1.0);
  bad.select(0, 1).select(0, 2).fill_(1.0);
  const auto result = testing::tensors_close(bad, ref, 0, 0);
  ASSERT_FALSE(result);
  const std::string message = result.message();
  EXPECT_NE(message.find("2 of 6"), std::string::npos) << message;
  EXPECT_NE(message.find("[1, 1]"), std::string::npos) << message;
}

TEST(ParityHelper, NanAndInfMustBeInTheSamePlaces) {
  const Tensor ref = from_vector(std::vector<float>{NAN, INFINITY, 1});
  EXPECT_TRUE(testing::tensors_close(from_vector(std::vector<float>{NAN, INFINITY, 1}), ref, 0, 0));
  EXPECT_FALSE(
      testing::tensors_close(from_vector(std::vector<float>{1, INFINITY, 1}), ref, 1e9, 0));
  EXPECT_FALSE(
      testing::tensors_close(from_vector(std::vector<float>{NAN, -INFINITY, 1}), ref, 1e9, 0));
  EXPECT_FALSE(
      testing::tensors_close(from_vector(std::vector<float>{NAN, INFINITY, NAN}), ref, 1e9, 0));
}

TEST(ParityHelper, BitwiseComparisonSeesSignOfZeroAndDtype) {
  EXPECT_FALSE(testing::tensors_bitwise_equal(from_vector(std::vector<float>{-0.0f}),
                                              from_vector(std::vector<float>{0.0f})));
  EXPECT_FALSE(testing::tensors_bitwise_equal(zeros({2}), zeros({2}, DType::Float64)));
  EXPECT_FALSE(testing::tensors_close(zeros({2}), zeros({3}), 1, 1));
}

TEST(ParityHelper, IndexStringIsRowMajor) {
  EXPECT_EQ(testing::index_string(7, {2, 3, 2}), "[1, 0, 1]");
  EXPECT_EQ(testing::index_string(0, {}), "[]");
}

}  // namespace
}  // namespace tg
