// Integer tensors where labels need them: comparisons, wrapping arithmetic, index_select
// and gather on int64 and uint8, and the accuracy idiom eq(argmax(logits), labels). The
// CUDA twins: tests/cuda/integer_ops_parity_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "../../core/ops.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  const Tensor c = t.to(Device::cpu()).contiguous();
  return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

TEST(IntegerOps, ComparisonsGiveZeroOrOneInTheInputsDtype) {
  const Tensor a = from_vector<int64_t>({1, 5, -3, 7});
  const Tensor b = from_vector<int64_t>({1, 4, -3, 9});
  EXPECT_EQ(eq(a, b).dtype(), DType::Int64);
  EXPECT_EQ(values_of<int64_t>(eq(a, b)), (std::vector<int64_t>{1, 0, 1, 0}));
  EXPECT_EQ(values_of<int64_t>(ne(a, b)), (std::vector<int64_t>{0, 1, 0, 1}));
  EXPECT_EQ(values_of<int64_t>(gt(a, b)), (std::vector<int64_t>{0, 1, 0, 0}));
  EXPECT_EQ(values_of<int64_t>(le(a, b)), (std::vector<int64_t>{1, 0, 1, 1}));
  const Tensor u = from_vector<int64_t>({0, 200, 255}).to(DType::UInt8);
  const Tensor threshold = from_vector<int64_t>({128}).to(DType::UInt8);
  EXPECT_EQ(values_of<uint8_t>(ge(u, threshold)), (std::vector<uint8_t>{0, 1, 1}));
}

TEST(IntegerOps, ArithmeticWrapsAsPyTorchDoes) {
  const Tensor u = from_vector<int64_t>({250, 3}).to(DType::UInt8);
  const Tensor ten = from_vector<int64_t>({10}).to(DType::UInt8);
  EXPECT_EQ(values_of<uint8_t>(add(u, ten)), (std::vector<uint8_t>{4, 13}));
  EXPECT_EQ(values_of<uint8_t>(sub(u, ten)), (std::vector<uint8_t>{240, 249}));
  const Tensor big = from_vector<int64_t>({INT64_MAX, -4});
  EXPECT_EQ(values_of<int64_t>(add(big, from_vector<int64_t>({1}))),
            (std::vector<int64_t>{INT64_MIN, -3}));
  EXPECT_EQ(values_of<int64_t>(mul(big, from_vector<int64_t>({2}))),
            (std::vector<int64_t>{-2, -8}));
  EXPECT_EQ(values_of<int64_t>(maximum(big, from_vector<int64_t>({0}))),
            (std::vector<int64_t>{INT64_MAX, 0}));
}

TEST(IntegerOps, MixedOrFloatOnlyCallsSayWhatWasWrong) {
  const Tensor labels = from_vector<int64_t>({1, 2});
  EXPECT_NE(
      error_of([&] { div(labels, labels); }).find("div: needs a floating-point tensor, got int64"),
      std::string::npos);
  EXPECT_NE(error_of([&] {
              eq(labels, labels.to(DType::Float32));
            }).find("eq: dtype mismatch: int64 [2] vs float32 [2]"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              index_select(labels, 0, from_vector<int64_t>({2}));
            }).find("index_select: index 2 at position 0 is out of range [0, 2)"),
            std::string::npos);
}

TEST(IntegerOps, LabelsOfABatchAndTheAccuracyOfItsPredictions) {
  const Tensor labels = from_vector<int64_t>({3, 0, 1, 2, 1});
  const Tensor batch = index_select(labels, 0, from_vector<int64_t>({4, 0, 0, 2}));
  EXPECT_EQ(batch.dtype(), DType::Int64);
  EXPECT_EQ(values_of<int64_t>(batch), (std::vector<int64_t>{1, 3, 3, 1}));
  const Tensor logits = from_vector<float>({0, 1, 0, 0,  // predicts 1
                                            0, 0, 0, 2,  // 3
                                            5, 0, 0, 0,  // 0
                                            0, 3, 1, 0},
                                           {4, 4});
  const Tensor correct = eq(argmax(logits, 1), batch);
  EXPECT_EQ(values_of<int64_t>(correct), (std::vector<int64_t>{1, 1, 0, 1}));
  EXPECT_EQ(sum(correct.to(DType::Float32)).item<float>(), 3.0f);
  // gather picks each row's label column (uint8 images keep their dtype too).
  const Tensor picked =
      gather(from_vector<int64_t>({10, 11, 12, 13, 14, 15}, {2, 3}).to(DType::UInt8), 1,
             from_vector<int64_t>({2, 0}, {2, 1}));
  EXPECT_EQ(picked.dtype(), DType::UInt8);
  EXPECT_EQ(values_of<uint8_t>(picked), (std::vector<uint8_t>{12, 13}));
}

}  // namespace
}  // namespace tg::testing
