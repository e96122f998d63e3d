// Integer tensors where labels need them: comparisons, wrapping arithmetic, type promotion
// of mixed operands (PyTorch's rules), index_select and gather on int64 and uint8, and the
// accuracy idiom eq(argmax(logits), labels). The CUDA twins:
// tests/cuda/integer_ops_parity_test.cpp.
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

TEST(IntegerOps, MixedDtypesPromoteAsPyTorchDoes) {
  // Each line's expected dtype is what torch.result_type gives (Note [type promotion]).
  const Tensor labels = from_vector<int64_t>({1, 2});
  const Tensor f32 = from_vector<float>({0.5f, 2.0f});
  const Tensor f64 = from_vector<double>({0.25, 4.0});
  const Tensor u8 = from_vector<int64_t>({200, 3}).to(DType::UInt8);
  EXPECT_EQ(add(labels, f32).dtype(), DType::Float32);
  EXPECT_EQ(values_of<float>(add(labels, f32)), (std::vector<float>{1.5f, 4.0f}));
  EXPECT_EQ(mul(f32, f64).dtype(), DType::Float64);
  EXPECT_EQ(add(u8, labels).dtype(), DType::Int64);
  EXPECT_EQ(values_of<int64_t>(add(u8, labels)), (std::vector<int64_t>{201, 5}));
  // 0-d operands count only when of a higher category.
  EXPECT_EQ(add(f32, full({}, 1.0, DType::Float64)).dtype(), DType::Float32);
  EXPECT_EQ(add(labels, full({}, 1.5, DType::Float64)).dtype(), DType::Float64);
  EXPECT_EQ(add(u8, full({}, 300.0, DType::Int64)).dtype(), DType::UInt8);
  EXPECT_EQ(add(full({}, 1.0, DType::Int64), full({}, 1.0, DType::Float64)).dtype(),
            DType::Float64);
  // Integer division is true division, in float32.
  EXPECT_EQ(div(labels, labels).dtype(), DType::Float32);
  EXPECT_EQ(values_of<float>(div(from_vector<int64_t>({3, -7}), from_vector<int64_t>({2, 2}))),
            (std::vector<float>{1.5f, -3.5f}));
  // Comparisons compare in the result type: 2 > 1.5 is true, not 2 > 1.
  EXPECT_EQ(values_of<float>(gt(labels, from_vector<float>({1.5f, 1.5f}))),
            (std::vector<float>{0, 1}));
  EXPECT_EQ(maximum(labels, f32).dtype(), DType::Float32);
  EXPECT_EQ(where(from_vector<int64_t>({1, 0}).to(DType::UInt8), labels, f64).dtype(),
            DType::Float64);
  // A fractional C++ scalar against an integer tensor acts as a float32 0-d; a whole one
  // keeps the integer dtype.
  EXPECT_EQ(values_of<float>(mul(labels, 0.5)), (std::vector<float>{0.5f, 1.0f}));
  EXPECT_EQ(mul(labels, 2.0).dtype(), DType::Int64);
  EXPECT_EQ(values_of<float>(1.0 / from_vector<int64_t>({2, 4})),
            (std::vector<float>{0.5f, 0.25f}));
}

TEST(IntegerOps, GradientsFlowBackInEachOperandsDtype) {
  Tensor a = from_vector<float>({1.0f, 2.0f});
  Tensor b = from_vector<double>({3.0, 4.0});
  a.requires_grad_();
  b.requires_grad_();
  const Tensor y = sum(mul(a, b));  // float64
  EXPECT_EQ(y.dtype(), DType::Float64);
  y.backward();
  EXPECT_EQ(a.grad().dtype(), DType::Float32);
  EXPECT_EQ(values_of<float>(a.grad()), (std::vector<float>{3.0f, 4.0f}));
  EXPECT_EQ(values_of<double>(b.grad()), (std::vector<double>{1.0, 2.0}));
  const Tensor labels = from_vector<int64_t>({1, 2});
  Tensor w = from_vector<float>({0.5f, 0.5f});
  w.requires_grad_();
  sum(mul(w, labels)).backward();
  EXPECT_EQ(values_of<float>(w.grad()), (std::vector<float>{1.0f, 2.0f}));
}

TEST(IntegerOps, ReductionsOfIntegersAreExactAndKeepPyTorchsDtypes) {
  // Beyond 2^53 a double accumulator would round: 2^60 + 1 + 1 must stay exact.
  const int64_t big = int64_t{1} << 60;
  EXPECT_EQ(sum(from_vector<int64_t>({big, 1, 1})).item<int64_t>(), big + 2);
  EXPECT_EQ(sum(from_vector<int64_t>({INT64_MAX, 1})).item<int64_t>(), INT64_MIN);  // wraps
  const Tensor u8 = from_vector<int64_t>({200, 100, 255, 1}, {2, 2}).to(DType::UInt8);
  EXPECT_EQ(sum(u8).dtype(), DType::Int64);
  EXPECT_EQ(sum(u8).item<int64_t>(), 556);
  EXPECT_EQ(values_of<int64_t>(sum(u8, {1})), (std::vector<int64_t>{300, 256}));
  EXPECT_EQ(values_of<int64_t>(sum(u8, {0})), (std::vector<int64_t>{455, 101}));  // columns
  EXPECT_EQ(max(u8).dtype(), DType::UInt8);
  EXPECT_EQ(max(u8).item<int64_t>(), 255);
  EXPECT_EQ(u8.min().item<int64_t>(), 1);
  const ValuesAndIndices m = min(from_vector<int64_t>({4, -9, 7, -9, 2, 8}, {2, 3}), 1);
  EXPECT_EQ(values_of<int64_t>(m.values), (std::vector<int64_t>{-9, -9}));
  EXPECT_EQ(values_of<int64_t>(m.indices), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(values_of<int64_t>(argmax(from_vector<int64_t>({3, 9, 9, -1}), 0)),
            (std::vector<int64_t>{1}));
  // A long row (chunked: Note [long rows]) and many short ones against a plain loop.
  for (const Shape& shape : {Shape{1, 100003}, Shape{300, 7}, Shape{0, 5}}) {
    std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)));
    int64_t total = 0;
    for (size_t i = 0; i < v.size(); ++i)
      total += v[i] = static_cast<int64_t>(i * 7919 % 1000) - 500;
    const Tensor t = from_vector<int64_t>(v, shape);
    EXPECT_EQ(sum(t).item<int64_t>(), total) << t.shape()[1];
    std::vector<int64_t> rows = values_of<int64_t>(sum(t, {1}));
    int64_t rows_total = 0;
    for (int64_t r : rows) rows_total += r;
    EXPECT_EQ(rows_total, total);
  }
  EXPECT_NE(error_of([] {
              mean(from_vector<int64_t>({1, 2}));
            }).find("mean: needs a floating-point tensor, got int64"),
            std::string::npos);
  EXPECT_THROW(var(from_vector<int64_t>({1, 2})), Error);
}

TEST(IntegerOps, FloatOnlyCallsSayWhatWasWrong) {
  const Tensor labels = from_vector<int64_t>({1, 2});
  EXPECT_NE(error_of([&] { exp(labels); }).find("exp: needs a floating-point tensor, got int64"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              where(from_vector<int64_t>({1, 0}).to(DType::UInt8), labels, labels);
            }).find("where: needs a floating-point tensor, got int64"),
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
