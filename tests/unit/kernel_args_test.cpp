// The argument checks that both launchers of matmul and conv2d run before narrowing sizes to
// int for BLAS, cuBLAS and cuDNN: a size past INT_MAX is refused by name, on the CPU here
// exactly as on a GPU (the launchers call the same check before touching any pointer).
#include <gtest/gtest.h>

#include <climits>
#include <string>

#include "../../kernels/conv2d.h"
#include "../../kernels/matmul.h"
#include "../support/parity.h"

namespace tg {
namespace {

constexpr int64_t kPastInt = int64_t{INT_MAX} + 1;

using testing::error_of;

kernels::MatmulArgs small_matmul() {
  kernels::MatmulArgs g{};
  g.dtype = DType::Float32;
  g.m = g.n = g.k = g.lda = g.ldb = g.ldc = g.batch = 1;
  return g;
}

TEST(KernelArgs, GemmRefusesEverySizePastInt) {
  EXPECT_NO_THROW(kernels::check_matmul_args(small_matmul()));
  for (int64_t kernels::MatmulArgs::*field :
       {&kernels::MatmulArgs::m, &kernels::MatmulArgs::n, &kernels::MatmulArgs::k,
        &kernels::MatmulArgs::lda, &kernels::MatmulArgs::ldb, &kernels::MatmulArgs::ldc,
        &kernels::MatmulArgs::batch}) {
    kernels::MatmulArgs g = small_matmul();
    g.*field = kPastInt;
    const std::string message =
        error_of([&] { kernels::cpu::matmul(g); });  // null operands never read
    EXPECT_NE(message.find(" = 2147483648 is outside"), std::string::npos) << message;
  }
  kernels::MatmulArgs g = small_matmul();
  g.batch = kPastInt;
  EXPECT_NE(error_of([&] { kernels::cpu::matmul(g); }).find("batch = "), std::string::npos);
}

kernels::Conv2dArgs small_conv() {
  kernels::Conv2dArgs a{};
  a.dtype = DType::Float32;
  a.g = {1, 1, 3, 3, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1, 1, 1};
  return a;
}

TEST(KernelArgs, Conv2dRefusesSizesPastInt) {
  EXPECT_NO_THROW(kernels::check_conv2d_geometry(small_conv().g));
  kernels::Conv2dArgs a = small_conv();
  a.g.n = kPastInt;
  EXPECT_NE(error_of([&] { kernels::cpu::conv2d_forward(a); }).find("N = 2147483648"),
            std::string::npos);
  // Each field fits, but one sample of the input has 3·30000·30000 > INT_MAX elements.
  a = small_conv();
  a.g.c_in = 3;
  a.g.h = a.g.w = 30000;
  a.g.out_h = a.g.out_w = 29998;
  for (auto pass : {kernels::cpu::conv2d_forward, kernels::cpu::conv2d_backward_data,
                    kernels::cpu::conv2d_backward_filter}) {
    const std::string message = error_of([&] { pass(a); });
    EXPECT_NE(message.find("one sample of the input (3x30000x30000)"), std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace tg
