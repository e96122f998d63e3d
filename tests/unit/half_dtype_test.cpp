// The half dtypes as tensors (foundation/dtype.h, Note [half dtypes]): every one of the
// 65,536 bit patterns of each through to(dtype) and back, floats, doubles and integers into
// them, strided copies, factories, printing, item, safetensors, and the refusals that name
// the op. The element conversions themselves are checked against independent references in
// half_test.cpp; this checks that every path a tensor takes lands on exactly those bits.
// CUDA's copies and fills of them: tests/cuda/copy_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../core/safetensors.h"
#include "../../core/state_dict.h"
#include "../../kernels/half.h"
#include "../../layers/linear.h"

namespace tg {
namespace {

using kernels::float_bits;

template <typename Half>
std::vector<Half> every_pattern() {
  std::vector<Half> out(0x10000);
  for (uint32_t i = 0; i < 0x10000u; ++i) out[i].bits = static_cast<uint16_t>(i);
  return out;
}

template <typename Half>
const Half* halves(const Tensor& t) {
  return t.data_ptr<Half>();
}

template <typename Half>
void check_every_pattern() {
  const DType dtype = dtype_of_v<Half>;
  const std::vector<Half> patterns = every_pattern<Half>();
  const Tensor h = from_vector(patterns, {0x10000}, TensorOptions(dtype));
  const Tensor f = h.to(DType::Float32);
  const Tensor d = h.to(DType::Float64);
  const Tensor back = f.to(dtype);
  const Tensor back_from_double = d.to(dtype);
  for (uint32_t i = 0; i < 0x10000u; ++i) {
    const float want = kernels::half_to_float(patterns[i]);
    ASSERT_EQ(float_bits(f.data_ptr<float>()[i]), float_bits(want)) << dtype << " " << i;
    const double wide = d.data_ptr<double>()[i];
    ASSERT_TRUE(std::isnan(want) ? std::isnan(wide) : wide == static_cast<double>(want)) << i;
    // A NaN comes back quiet (Note [half conversions]); everything else as it was.
    const uint16_t expected = kernels::half_from_float<Half>(want).bits;
    ASSERT_EQ(halves<Half>(back)[i].bits, expected) << dtype << " " << i;
    ASSERT_EQ(halves<Half>(back_from_double)[i].bits, expected) << dtype << " " << i;
    if (!std::isnan(want)) {
      ASSERT_EQ(expected, patterns[i].bits) << dtype << " " << i;
    }
  }
}

TEST(HalfDtype, EveryBfloat16PatternWidensExactlyAndComesBack) { check_every_pattern<bfloat16>(); }
TEST(HalfDtype, EveryFloat16PatternWidensExactlyAndComesBack) { check_every_pattern<float16>(); }

// 65,536 floats spread over every exponent, sign and NaN, and the doubles and integers that a
// tensor may hold: each lands on the element rule's bits (doubles and integers through float,
// as PyTorch converts them).
template <typename Half>
void check_rounding_into() {
  const DType dtype = dtype_of_v<Half>;
  std::vector<float> floats;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFu; bits += 65537) {
    floats.push_back(kernels::float_from_bits(static_cast<uint32_t>(bits)));
  }
  const Tensor f = from_vector(floats);
  const Tensor h = f.to(dtype);
  for (size_t i = 0; i < floats.size(); ++i) {
    ASSERT_EQ(halves<Half>(h)[i].bits, kernels::half_from_float<Half>(floats[i]).bits)
        << dtype << " float " << floats[i];
  }
  const std::vector<double> doubles{1.0 / 3, -65519.99, 65520.0, 1e-8, -0.0, 3.0e38, 1e300};
  const Tensor hd = from_vector(doubles).to(dtype);
  const std::vector<int64_t> integers{0, -7, 2049, 65504, 1 << 20, INT64_MAX};
  const Tensor hi = from_vector(integers).to(dtype);
  for (size_t i = 0; i < doubles.size(); ++i) {
    EXPECT_EQ(halves<Half>(hd)[i].bits,
              kernels::half_from_float<Half>(static_cast<float>(doubles[i])).bits)
        << dtype << " double " << doubles[i];
  }
  for (size_t i = 0; i < integers.size(); ++i) {
    EXPECT_EQ(halves<Half>(hi)[i].bits,
              kernels::half_from_float<Half>(static_cast<float>(integers[i])).bits)
        << dtype << " integer " << integers[i];
  }
}

TEST(HalfDtype, FloatsDoublesAndIntegersRoundToNearestEven) {
  check_rounding_into<bfloat16>();
  check_rounding_into<float16>();
}

TEST(HalfDtype, HalvesBecomeIntegersAsFloatsDo) {
  for (DType dtype : {DType::BFloat16, DType::Float16}) {
    const Tensor h = from_vector<float>({-2.5f, 300.0f, NAN, 7.75f}).to(dtype);
    const Tensor i = h.to(DType::Int64);
    EXPECT_EQ(std::vector<int64_t>(i.data_ptr<int64_t>(), i.data_ptr<int64_t>() + 4),
              (std::vector<int64_t>{-2, 300, 0, 7}))
        << dtype;
    const Tensor u = h.to(DType::UInt8);
    EXPECT_EQ(u.data_ptr<uint8_t>()[1], 300 % 256) << dtype;
    EXPECT_EQ(h.to(DType::BFloat16 == dtype ? DType::Float16 : DType::BFloat16)
                  .to(DType::Float32)
                  .data_ptr<float>()[3],
              7.75f)
        << dtype;
  }
}

TEST(HalfDtype, StridedCopiesAndViews) {
  const Tensor f = arange(0, 12, 1, TensorOptions(DType::Float32)).reshape({3, 4});
  for (DType dtype : {DType::BFloat16, DType::Float16}) {
    const Tensor h = f.to(dtype);
    const Tensor t = h.transpose(0, 1).contiguous();
    const Tensor expected = f.transpose(0, 1).contiguous();
    for (int64_t i = 0; i < 12; ++i) {
      EXPECT_EQ(t.to(DType::Float32).data_ptr<float>()[i], expected.data_ptr<float>()[i]);
    }
    Tensor into = zeros({4, 6}, dtype);
    into.slice(1, 0, 6, 2).copy_(f.transpose(0, 1));  // float32 into strided half
    EXPECT_EQ(into.to(DType::Float32).slice(1, 0, 6, 2).contiguous().str(), expected.str());
    EXPECT_EQ(into.to(DType::Float32).slice(1, 1, 6, 2).abs().sum().item<float>(), 0.0f);
    EXPECT_EQ(h.select(0, 2).to(DType::Float32).sum().item<float>(), 8 + 9 + 10 + 11);
  }
}

TEST(HalfDtype, FactoriesItemAndPrinting) {
  const Tensor third = full({2}, 1.0 / 3, DType::BFloat16);
  EXPECT_EQ(third.dtype(), DType::BFloat16);
  EXPECT_EQ(third.data_ptr<bfloat16>()[1].bits, 0x3EABu);  // 0.333984375
  EXPECT_EQ(full({}, 1.0 / 3, DType::Float16).data_ptr<float16>()[0].bits, 0x3555u);
  EXPECT_EQ(zeros({3}, DType::Float16).data_ptr<float16>()[2].bits, 0u);
  EXPECT_EQ(ones({3}, DType::BFloat16).data_ptr<bfloat16>()[2].bits, 0x3F80u);
  EXPECT_EQ(full({}, -0.0, DType::BFloat16).data_ptr<bfloat16>()[0].bits, 0x8000u);
  EXPECT_EQ(full({}, 1e6, DType::Float16).data_ptr<float16>()[0].bits, 0x7C00u);  // infinity
  EXPECT_EQ(third.select(0, 0).item<float>(), 0.333984375f);
  EXPECT_EQ(arange(0, 4, 1, TensorOptions(DType::Float16)).to(DType::Float32).sum().item<float>(),
            6.0f);
  EXPECT_EQ(element_size(DType::BFloat16), 2u);
  EXPECT_EQ(third.str(), "tensor([0.3340, 0.3340], dtype=bfloat16)");
  EXPECT_EQ(from_vector<float>({1.0f / 3, NAN, -INFINITY}).to(DType::Float16).str(),
            "tensor([0.3333,    nan,   -inf], dtype=float16)");
  const std::string message = [] {
    try {
      randn({2}, DType::BFloat16);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_NE(message.find("normal"), std::string::npos) << message;
  EXPECT_NE(message.find(".to(bfloat16)"), std::string::npos) << message;
}

// Arithmetic on a half tensor is refused with a message that names the op and the way out
// (Note [half dtypes]), never an internal error or a silent float32 result.
TEST(HalfDtype, OpsRefuseHalfTensorsAndSayWhy) {
  const Tensor h = ones({2, 2}, DType::BFloat16);
  const Tensor f = ones({2, 2});
  const std::vector<std::pair<std::string, std::function<void()>>> ops{
      {"add", [&] { add(h, h); }},       {"mul", [&] { mul(f, h); }},
      {"relu", [&] { relu(h); }},        {"exp", [&] { exp(h); }},
      {"sum", [&] { sum(h); }},          {"mean", [&] { mean(h); }},
      {"matmul", [&] { matmul(h, h); }}, {"softmax", [&] { softmax(h, 1); }},
      {"neg", [&] { neg(h); }},
  };
  for (const auto& [name, run] : ops) {
    try {
      run();
      ADD_FAILURE() << name << " took a bfloat16 tensor";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(name), std::string::npos) << name << ": " << what;
      EXPECT_NE(what.find("bfloat16"), std::string::npos) << what;
    }
  }
}

TEST(HalfDtype, GradientsStayInFloat32) {
  Tensor w = ones({2}).requires_grad_();
  EXPECT_THROW(w.to(DType::BFloat16), Error);  // would drop the gradient without a word
  EXPECT_NO_THROW(w.detach().to(DType::BFloat16));
  {
    NoGradGuard no_grad;
    EXPECT_NO_THROW(w.to(DType::Float16));
  }
  Tensor h = ones({2}, DType::BFloat16);
  EXPECT_THROW(h.requires_grad_(), Error);
  layers::Linear linear(3, 2);
  EXPECT_THROW(linear.to(DType::BFloat16), Error);
}

TEST(HalfDtype, SafetensorsKeepsEveryBit) {
  const std::string path = ::testing::TempDir() + "/halves.safetensors";
  const Tensor b = from_vector(every_pattern<bfloat16>(), {256, 256}, DType::BFloat16);
  const Tensor f = from_vector(every_pattern<float16>(), {0x10000}, DType::Float16);
  save_safetensors(path, {{"b", b}, {"f", f}});
  const SafetensorsContents file = load_safetensors(path);
  const Tensor b2 = find_state(file.tensors, "b"), f2 = find_state(file.tensors, "f");
  ASSERT_EQ(b2.dtype(), DType::BFloat16);
  ASSERT_EQ(f2.dtype(), DType::Float16);
  ASSERT_EQ(b2.shape(), (Shape{256, 256}));
  EXPECT_EQ(std::memcmp(b2.raw_data_ptr(), b.raw_data_ptr(), 2 * 0x10000), 0);
  EXPECT_EQ(std::memcmp(f2.raw_data_ptr(), f.raw_data_ptr(), 2 * 0x10000), 0);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace tg
