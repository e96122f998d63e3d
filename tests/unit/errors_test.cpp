// Bad input throws tg::Error whose message names the values involved (the foundation
// issue's list: CUDA on a CPU-only build, shape mismatch, out-of-range view, dtype
// mismatch), and leaves nothing half-done.
#include <gtest/gtest.h>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../support/parity.h"

namespace tg {
namespace {

using testing::error_of;

TEST(Errors, CudaDeviceWhenUnusableSaysWhy) {
  // The first device index that cannot be used here: cuda:0 on a machine without a GPU (or
  // without CUDA compiled in), else the index past the last GPU.
  const Device unusable = Device::cuda(cuda_device_count());
  const std::string message = error_of([&] { zeros({2}, unusable); });
  if (!cuda_compiled()) {
    EXPECT_NE(message.find("CUDA support was not compiled in"), std::string::npos) << message;
  } else if (cuda_device_count() == 0) {
    EXPECT_NE(message.find("no CUDA device is present"), std::string::npos) << message;
  } else {
    EXPECT_NE(message.find("CUDA device(s) are present"), std::string::npos) << message;
  }
  EXPECT_NE(message.find(unusable.str()), std::string::npos) << message;
  EXPECT_THROW(context(unusable), Error);
}

TEST(Errors, MissingCudaDeviceIndexIsNamed) {
  const int count = cuda_device_count();
  if (!cuda_compiled()) GTEST_SKIP() << "no CUDA device: CUDA support was not compiled in";
  const std::string message = error_of([&] { zeros({2}, Device::cuda(count)); });
  EXPECT_NE(message.find("cuda:" + std::to_string(count)), std::string::npos) << message;
}

TEST(Errors, ShapeMismatchNamesBothShapes) {
  Tensor dst = zeros({2, 3});
  const std::string message = error_of([&] { dst.copy_(ones({3, 2})); });
  EXPECT_NE(message.find("copy_"), std::string::npos) << message;
  EXPECT_NE(message.find("[2, 3]"), std::string::npos) << message;
  EXPECT_NE(message.find("[3, 2]"), std::string::npos) << message;
  EXPECT_EQ(dst.version(), 1) << "the failed copy must not count as a write";  // fill_ was 1
}

TEST(Errors, ParityOptionsNameWhatIsWrong) {
  const Tensor x = zeros({4, 3});
  ClassLossOptions o;
  o.weight = ones({2});
  std::string message = error_of([&] { cross_entropy(x, zeros({4}, DType::Int64), o); });
  EXPECT_NE(message.find("weight must be (3,)"), std::string::npos) << message;
  o = ClassLossOptions();
  o.ignore_index = 0;
  message = error_of([&] { cross_entropy(x, zeros({4, 3}), o); });
  EXPECT_NE(message.find("ignore_index is not supported for probability targets"),
            std::string::npos)
      << message;
  message = error_of([&] { cross_entropy(zeros({2, 3, 5}), zeros({2, 4}, DType::Int64)); });
  EXPECT_NE(message.find("[2, 5]"), std::string::npos) << message;
  message = error_of([&] { matmul(zeros({2, 3, 4}), zeros({5, 4, 2})); });
  EXPECT_NE(message.find("cannot be broadcast"), std::string::npos) << message;
  message = error_of([&] { matmul(zeros({3}), zeros({4})); });
  EXPECT_NE(message.find("no dot product"), std::string::npos) << message;
  message = error_of([&] {
    conv2d(zeros({1, 1, 5, 5}), zeros({1, 1, 3, 3}), Tensor(), {2, 2}, ConvPadding::Same);
  });
  EXPECT_NE(message.find("needs stride 1"), std::string::npos) << message;
}

// An out-of-range class index is reported by the loss the user called, not by the gather
// inside it (issue 25).
TEST(Errors, AClassIndexOutOfRangeIsNamedByTheLoss) {
  const Tensor logits = zeros({3, 4});
  const Tensor target = from_vector<int64_t>({1, 7, 0});
  std::string message = error_of([&] { cross_entropy(logits, target); });
  EXPECT_EQ(message.find("cross_entropy: target 7 at position 1 is not a class index in [0, 4)"),
            0u)
      << message;
  EXPECT_EQ(message.find("gather"), std::string::npos) << message;
  message = error_of([&] { nll_loss(logits, from_vector<int64_t>({-1, 0, 0})); });
  EXPECT_EQ(message.find("nll_loss: target -1 at position 0"), 0u) << message;
  ClassLossOptions o;  // ignore_index -100 is allowed, anything else below 0 is not
  EXPECT_NO_THROW(cross_entropy(logits, from_vector<int64_t>({-100, 3, 0}), o));
  message = error_of([&] { cross_entropy(logits, from_vector<int64_t>({-5, 3, 0}), o); });
  EXPECT_NE(message.find("target -5 at position 0 is not a class index in [0, 4) nor "
                         "ignore_index -100"),
            std::string::npos)
      << message;
}

TEST(Errors, OutOfRangeViewsNameTheValues) {
  const Tensor t = zeros({4, 5});
  std::string message = error_of([&] { t.slice(2, 0, 1); });
  EXPECT_NE(message.find("dim 2 out of range [-2, 1]"), std::string::npos) << message;
  EXPECT_NE(message.find("[4, 5]"), std::string::npos) << message;
  message = error_of([&] { t.select(1, 5); });
  EXPECT_NE(message.find("index 5 out of range"), std::string::npos) << message;
  message = error_of([&] { t.view({3, 7}); });
  EXPECT_NE(message.find("[3, 7]"), std::string::npos) << message;
  EXPECT_NE(message.find("20 elements"), std::string::npos) << message;
  message = error_of([&] { t.transpose(0, 1).view({20}); });
  EXPECT_NE(message.find("not contiguous"), std::string::npos) << message;
  message = error_of([&] { t.permute({0, 0}); });
  EXPECT_NE(message.find("repeated"), std::string::npos) << message;
}

TEST(Errors, DtypeMismatchNamesBothDtypes) {
  const Tensor t = zeros({3});
  std::string message = error_of([&] { t.data_ptr<double>(); });
  EXPECT_NE(message.find("float64"), std::string::npos) << message;
  EXPECT_NE(message.find("float32"), std::string::npos) << message;
  message = error_of([] { from_vector(std::vector<float>{1, 2}, {2}, DType::Int64); });
  EXPECT_NE(message.find("int64"), std::string::npos) << message;
  EXPECT_NE(message.find("float32"), std::string::npos) << message;
  message = error_of([] { rand({2}, DType::Int64); });
  EXPECT_NE(message.find("int64 is not a floating-point type"), std::string::npos) << message;
}

TEST(Errors, BadFactoryArguments) {
  EXPECT_THROW(zeros({2, -1}), Error);
  EXPECT_THROW(zeros({1, 2, 3, 4, 5, 6, 7, 8, 9}), Error);
  EXPECT_THROW(from_vector(std::vector<float>{1, 2, 3}, {2, 2}), Error);
  EXPECT_THROW(arange(0, 10, 0), Error);
  EXPECT_THROW(bernoulli({4}, 1.5), Error);
  EXPECT_THROW(normal({4}, 0, -1), Error);
  EXPECT_THROW(uniform({4}, 2, 1), Error);
  EXPECT_THROW(zeros({2}).item<float>(), Error);
  EXPECT_THROW(Tensor().shape(), Error);
}

TEST(Errors, MessageCarriesFileAndLine) {
  const std::string message = error_of([] { zeros({-3}); });
  EXPECT_NE(message.find("tensor.cpp:"), std::string::npos) << message;
}

}  // namespace
}  // namespace tg
