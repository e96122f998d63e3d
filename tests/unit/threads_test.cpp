// tg::set_num_threads / get_num_threads: what is set is what is read, a thread count below
// one is refused by name, and our own kernels (elementwise, reductions, the fused LSTM cell
// and their gradients) give the same bits with 1 and 2 threads. (oneDNN's float32 GEMM does
// not promise that: core/threads.h.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../core/threads.h"
#include "../support/parity.h"

namespace tg {
namespace {

// Gradients and reductions of a computation large enough for the kernels to go parallel.
std::vector<Tensor> run_once() {
  Generator g(4);
  Tensor gates = randn({512, 1024}, DType::Float32, &g);
  Tensor c = randn({512, 256}, DType::Float32, &g);
  gates.requires_grad_();
  c.requires_grad_();
  const LstmCellResult r = lstm_cell(tanh(gates), c);
  const Tensor loss = sum(mul(r.h, r.c));
  loss.backward();
  return {gates.grad(), c.grad(), sum(r.h, {0}), sum(r.c, {1}), loss};
}

TEST(Threads, SetIsGetAndResultsDoNotDependOnIt) {
  const int saved = get_num_threads();
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
  const std::vector<Tensor> one = run_once();
  set_num_threads(2);
  EXPECT_EQ(get_num_threads(), 2);
  const std::vector<Tensor> two = run_once();
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_TRUE(testing::tensors_bitwise_equal(one[i], two[i])) << i;
  }
  EXPECT_NE(testing::error_of([] {
              set_num_threads(0);
            }).find("set_num_threads: the number of threads must be at least 1, got 0"),
            std::string::npos);
  set_num_threads(saved);
}

// Note [OpenMP wait policy]. The probe runs as a child of the next test, with
// TG_SPIN_PROBE_EXPECT naming what GOMP_SPINCOUNT must be after use_openmp_spin_policy
// ("unset": none); when it re-executes the program, the second start runs the probe again.
TEST(Threads, SpinPolicyProbe) {
  const char* expect = std::getenv("TG_SPIN_PROBE_EXPECT");
  if (expect == nullptr) GTEST_SKIP() << "run by Threads.SpinPolicy... as a child";
  std::string self = "/proc/self/exe", filter = "--gtest_filter=Threads.SpinPolicyProbe";
  char* argv[] = {self.data(), filter.data(), nullptr};
  use_openmp_spin_policy(argv);
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  if (std::string(expect) == "unset") {
    EXPECT_EQ(spin, nullptr);
  } else {
    ASSERT_NE(spin, nullptr);
    EXPECT_EQ(std::string(spin), expect);
  }
}

TEST(Threads, SpinPolicyRestartsWithItAndLeavesTheUsersAlone) {
  const std::string self = "/proc/" + std::to_string(getpid()) + "/exe";
  const auto child = [&](const std::string& env) {
    const std::string command = "env -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY " + env + " " + self +
                                " --gtest_filter=Threads.SpinPolicyProbe > /dev/null 2>&1";
    return std::system(command.c_str());
  };
  EXPECT_EQ(child("TG_SPIN_PROBE_EXPECT=10000"), 0);
  EXPECT_EQ(child("TG_SPIN_PROBE_EXPECT=77 GOMP_SPINCOUNT=77"), 0);
  EXPECT_EQ(child("TG_SPIN_PROBE_EXPECT=unset OMP_WAIT_POLICY=passive"), 0);
  EXPECT_NE(child("TG_SPIN_PROBE_EXPECT=12345"), 0);  // the probe can fail
}

}  // namespace
}  // namespace tg
