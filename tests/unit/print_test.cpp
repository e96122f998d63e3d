// Printing reads like PyTorch's.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/factory.h"

namespace tg {
namespace {

TEST(Print, IntegralFloatsAndRows) {
  EXPECT_EQ(arange(6.0).view({2, 3}).str(),
            "tensor([[0., 1., 2.],\n"
            "        [3., 4., 5.]], dtype=float32)");
}

TEST(Print, FixedAndScientific) {
  EXPECT_EQ(from_vector(std::vector<double>{0.5, -1.25}).str(),
            "tensor([ 0.5000, -1.2500], dtype=float64)");
  EXPECT_EQ(from_vector(std::vector<double>{1e-6, 2.5}).str(),
            "tensor([1.0000e-06, 2.5000e+00], dtype=float64)");
  EXPECT_EQ(from_vector(std::vector<float>{NAN, INFINITY, 1.5f}).str(),
            "tensor([   nan,    inf, 1.5000], dtype=float32)");
}

TEST(Print, IntegersScalarsAndEmpty) {
  EXPECT_EQ(from_vector(std::vector<int64_t>{-3, 10}).str(), "tensor([-3, 10], dtype=int64)");
  EXPECT_EQ(full({}, 7.0, DType::UInt8).str(), "tensor(7, dtype=uint8)");
  EXPECT_EQ(zeros({0, 3}).str(), "tensor([], size=[0, 3], dtype=float32)");
}

TEST(Print, ThreeDimensionsSeparateBlocksWithABlankLine) {
  EXPECT_EQ(arange(4.0, DType::Int64).view({2, 1, 2}).str(),
            "tensor([[[0, 1]],\n"
            "\n"
            "        [[2, 3]]], dtype=int64)");
}

TEST(Print, LargeTensorsAreSummarized) {
  const std::string text = arange(2000.0, DType::Int64).str();
  EXPECT_EQ(text, "tensor([   0,    1,    2, ..., 1997, 1998, 1999], dtype=int64)");
  EXPECT_LT(arange(100000.0).view({100, 1000}).str().size(), 600u);
}

TEST(Print, StridedViewsPrintTheirOwnElements) {
  EXPECT_EQ(arange(6.0, DType::Int64).view({2, 3}).transpose(0, 1).str(),
            "tensor([[0, 3],\n"
            "        [1, 4],\n"
            "        [2, 5]], dtype=int64)");
}

}  // namespace
}  // namespace tg
