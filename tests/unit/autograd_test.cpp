// The autograd engine: accumulation, retain_graph, NoGradGuard, detach, in-place checks,
// and gradients flowing through views.
#include <gtest/gtest.h>

#include "../../core/autograd.h"
#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/gradcheck.h"
#include "../../core/ops.h"
#include "../../core/storage.h"
#include "../support/parity.h"

namespace tg {
namespace {

Tensor leaf(std::vector<double> values, const Shape& shape) {
  Tensor t = from_vector(values, shape);
  t.requires_grad_();
  return t;
}

TEST(Autograd, ChainRuleThroughSharedSubexpression) {
  Tensor x = leaf({1, 2, 3}, {3});
  const Tensor y = mul(x, x);               // x²
  const Tensor z = sum(add(y, mul(y, x)));  // Σ x² + x³
  z.backward();
  // d/dx = 2x + 3x²
  EXPECT_TRUE(
      testing::tensors_close(x.grad(), from_vector(std::vector<double>{5, 16, 33}), 1e-12, 0));
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = leaf({1, -2}, {2});
  sum(mul(x, 3.0)).backward();
  sum(mul(x, 3.0)).backward();
  EXPECT_TRUE(testing::tensors_close(x.grad(), from_vector(std::vector<double>{6, 6}), 0, 0));
}

TEST(Autograd, AccumulatesInPlaceIntoAnExistingGradBuffer) {
  Tensor x = leaf({1, 2}, {2});
  Tensor flat = zeros({4}, DType::Float64);  // e.g. an optimizer's flat gradient buffer
  x.set_grad(flat.slice(0, 1, 3));
  sum(mul(x, x)).backward();
  EXPECT_TRUE(testing::tensors_close(flat, from_vector(std::vector<double>{0, 2, 4, 0}), 0, 0));
}

TEST(Autograd, SecondBackwardWithoutRetainGraphThrows) {
  Tensor x = leaf({1, 2}, {2});
  const Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  EXPECT_NO_THROW(y.backward());
  EXPECT_THROW(y.backward(), Error);
}

TEST(Autograd, InPlaceChangeOfASavedTensorIsDetected) {
  Tensor x = leaf({1, 2}, {2});
  Tensor w = from_vector(std::vector<double>{3, 4});
  const Tensor y = sum(mul(x, w));  // saves w
  w.fill_(0.0);
  try {
    y.backward();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("modified by an in-place operation"), std::string::npos)
        << e.what();
  }
}

TEST(Autograd, NoGradGuardAndDetachStopRecording) {
  Tensor x = leaf({1}, {1});
  {
    NoGradGuard guard;
    EXPECT_FALSE(mul(x, 2.0).requires_grad());
    EXPECT_FALSE(grad_mode_enabled());
  }
  EXPECT_TRUE(grad_mode_enabled());
  EXPECT_TRUE(mul(x, 2.0).requires_grad());
  const Tensor d = mul(x, 2.0).detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
}

TEST(Autograd, InPlaceWriteToATensorThatRequiresGradIsRefused) {
  Tensor x = leaf({1, 2}, {2});
  EXPECT_THROW(x.fill_(0.0), Error);
  EXPECT_THROW(x.copy_(zeros({2}, DType::Float64)), Error);
  NoGradGuard guard;
  EXPECT_NO_THROW(x.fill_(0.0));  // an optimizer's update
}

TEST(Autograd, GradientsFlowThroughViews) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor y = x.transpose(0, 1).slice(0, 1, 3).reshape({4});  // x[:, 1:3] column-major
  sum(mul(y, from_vector(std::vector<double>{1, 2, 3, 4}))).backward();
  EXPECT_TRUE(testing::tensors_close(
      x.grad(), from_vector(std::vector<double>{0, 1, 3, 0, 2, 4}, {2, 3}), 0, 0));
}

TEST(Autograd, BackwardNeedsAScalarOrAnUpstreamGradient) {
  Tensor x = leaf({1, 2}, {2});
  EXPECT_THROW(mul(x, 2.0).backward(), Error);
  EXPECT_THROW(from_vector(std::vector<double>{1}).backward(), Error);
  EXPECT_THROW(zeros({2}).requires_grad_().fill_(1), Error);
  EXPECT_THROW(zeros({2}, DType::Int64).requires_grad_(), Error);
  Tensor y = mul(x, 2.0);
  EXPECT_THROW(y.requires_grad_(false), Error);
}

TEST(Autograd, BroadcastGradientsAreSummedBack) {
  Tensor a = leaf({1, 2, 3}, {3});
  Tensor b = leaf({10}, {1, 1});
  sum(mul(a, b)).backward();  // (1, 3) result
  EXPECT_TRUE(testing::tensors_close(a.grad(), from_vector(std::vector<double>{10, 10, 10}), 0, 0));
  EXPECT_TRUE(testing::tensors_close(b.grad(), from_vector(std::vector<double>{6}, {1, 1}), 0, 0));
}

}  // namespace
}  // namespace tg

namespace tg {
namespace {

// gradcheck itself must catch a wrong backward.
TEST(Gradcheck, CatchesAWrongBackward) {
  Tensor x = from_vector(std::vector<double>{0.3, -1.2, 2.0});
  x.requires_grad_();
  const GradcheckFn right = [](const std::vector<Tensor>& in) { return mul(in[0], in[0]); };
  EXPECT_TRUE(gradcheck(right, {x}).ok);
  const GradcheckFn wrong = [](const std::vector<Tensor>& in) {
    Tensor y;
    {
      NoGradGuard guard;
      y = mul(in[0], in[0]);
    }
    return autograd::record("WrongBackward", y, {in[0]},
                            [](const Tensor& g) { return std::vector<Tensor>{mul(g, 3.0)}; });
  };
  const GradcheckResult result = gradcheck(wrong, {x});
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.message.find("analytic"), std::string::npos) << result.message;
}

TEST(OpErrors, MessagesNameTheOpAndShapes) {
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  std::string m = message([] { matmul(zeros({2, 3}), zeros({4, 5})); });
  EXPECT_NE(m.find("matmul"), std::string::npos) << m;
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4, 5]"), std::string::npos) << m;
  m = message([] { conv2d(zeros({1, 3, 8, 8}), zeros({4, 2, 3, 3})); });
  EXPECT_NE(m.find("conv2d"), std::string::npos) << m;
  EXPECT_NE(m.find("[4, 2, 3, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[1, 3, 8, 8]"), std::string::npos) << m;
  m = message([] { cross_entropy(zeros({4, 10}), zeros({3}, DType::Int64)); });
  EXPECT_NE(m.find("cross_entropy"), std::string::npos) << m;
  EXPECT_NE(m.find("[3]"), std::string::npos) << m;
  m = message([] {
    cross_entropy(zeros({4, 10}), from_vector(std::vector<int64_t>{0, 1, 10, 2}));
  });
  EXPECT_NE(m.find("cross_entropy: target 10 at position 2 is not a class index in [0, 10)"),
            std::string::npos)
      << m;
  m = message([] { add(zeros({2, 3}), zeros({4})); });
  EXPECT_NE(m.find("add"), std::string::npos) << m;
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4]"), std::string::npos) << m;
  m = message([] { matmul(zeros({2, 2}), zeros({2, 2}, DType::Float64)); });
  EXPECT_NE(m.find("float32"), std::string::npos) << m;
  EXPECT_NE(m.find("float64"), std::string::npos) << m;
  m = message([] { add(zeros({2}), zeros({2}, Device::cuda())); });
  EXPECT_NE(m.find("cuda"), std::string::npos) << m;
}

TEST(OpErrors, AllocationGuardsCatchAWriteOutsideTheData) {
  DeviceContext& ctx = context(Device::cpu());
  ctx.set_allocation_guards(true);
  Tensor t = zeros({8});
  ctx.set_allocation_guards(false);
  EXPECT_TRUE(t.storage()->guards_intact());
  t.data_ptr<float>()[8] = 1.0f;  // one past the end, into the guard
  EXPECT_FALSE(t.storage()->guards_intact());
  t.data_ptr<float>()[8] = 0.0f;
}

}  // namespace
}  // namespace tg
