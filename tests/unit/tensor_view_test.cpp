// Views share storage and change only shape, strides and offset.
#include <gtest/gtest.h>

#include "../../core/factory.h"
#include "../support/parity.h"

namespace tg {
namespace {

Tensor iota(const Shape& shape) {
  return arange(static_cast<double>(shape_numel(shape)), DType::Float64).view(shape);
}

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

TEST(TensorView, ViewInfersOneDimensionAndSharesStorage) {
  const Tensor t = iota({2, 3, 4});
  const Tensor v = t.view({-1, 4});
  EXPECT_EQ(v.shape(), (Shape{6, 4}));
  EXPECT_EQ(v.storage(), t.storage());
  EXPECT_EQ(t.view({24}).shape(), (Shape{24}));
  EXPECT_EQ(zeros({0, 3}).view({-1}).shape(), (Shape{0}));
}

TEST(TensorView, TransposeAndPermuteSwapStrides) {
  const Tensor t = iota({2, 3, 4});
  const Tensor tt = t.transpose(0, 2);
  EXPECT_EQ(tt.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(tt.strides(), (Shape{1, 4, 12}));
  EXPECT_FALSE(tt.is_contiguous());
  const Tensor p = t.permute({1, 2, 0});
  EXPECT_EQ(p.shape(), (Shape{3, 4, 2}));
  // p[i][j][k] = t[k][i][j] = 12k + 4i + j
  EXPECT_EQ(p.select(0, 2).select(0, 1).select(0, 1).item<double>(), 12 + 8 + 1);
  EXPECT_EQ(t.transpose(-1, -2).shape(), (Shape{2, 4, 3}));
}

TEST(TensorView, SliceFollowsPythonRules) {
  const Tensor t = iota({10});
  EXPECT_EQ(values(t.slice(0, 2, 8, 3)), (std::vector<double>{2, 5}));
  EXPECT_EQ(values(t.slice(0, -3, 100)), (std::vector<double>{7, 8, 9}));
  EXPECT_EQ(t.slice(0, 8, 2).numel(), 0);
  EXPECT_EQ(values(t.slice(0, 0, 10, 4)), (std::vector<double>{0, 4, 8}));
  const Tensor m = iota({4, 5}).slice(1, 1, 4);
  EXPECT_EQ(m.shape(), (Shape{4, 3}));
  EXPECT_EQ(m.offset(), 1);
  EXPECT_EQ(values(m.select(0, 3)), (std::vector<double>{16, 17, 18}));
  EXPECT_THROW(t.slice(0, 0, 5, 0), Error);
}

TEST(TensorView, SelectUnsqueezeSqueeze) {
  const Tensor t = iota({3, 4});
  EXPECT_EQ(values(t.select(1, -1)), (std::vector<double>{3, 7, 11}));
  const Tensor u = t.unsqueeze(1);
  EXPECT_EQ(u.shape(), (Shape{3, 1, 4}));
  EXPECT_EQ(u.squeeze(1).shape(), (Shape{3, 4}));
  EXPECT_EQ(t.unsqueeze(-1).shape(), (Shape{3, 4, 1}));
  EXPECT_THROW(t.squeeze(0), Error);
  EXPECT_EQ(t.select(0, 1).select(0, 2).dim(), 0);
}

TEST(TensorView, ReshapeCopiesOnlyWhenItMust) {
  const Tensor t = iota({2, 6});
  EXPECT_EQ(t.reshape({3, 4}).storage(), t.storage());
  const Tensor tt = t.transpose(0, 1);
  const Tensor r = tt.reshape({12});
  EXPECT_NE(r.storage(), t.storage());
  EXPECT_EQ(values(r), (std::vector<double>{0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11}));
}

TEST(TensorView, ViewsSeeWritesThroughOtherViews) {
  Tensor t = zeros({3, 3}, DType::Float64);
  t.select(0, 1).fill_(5.0);
  t.transpose(0, 1).select(0, 2).fill_(7.0);  // column 2
  EXPECT_EQ(values(t), (std::vector<double>{0, 0, 7, 5, 5, 7, 0, 0, 7}));
  EXPECT_EQ(t.version(), 3);  // zeros' fill and two writes, counted on the shared storage
}

TEST(TensorView, ViewOutsideStorageIsRefused) {
  const Tensor t = zeros({4});
  EXPECT_THROW(Tensor(t.storage(), {5}, {1}, 0, DType::Float32), Error);
  EXPECT_THROW(Tensor(t.storage(), {2}, {1}, 3, DType::Float32), Error);
  EXPECT_THROW(Tensor(t.storage(), {3}, {1}, 0, DType::Float64), Error);  // 24 of 16 bytes
}

}  // namespace
}  // namespace tg
