// tg::set_num_threads / get_num_threads: what is set is what is read, a thread count below
// one is refused by name, our own kernels (elementwise, reductions, the fused LSTM cell and
// their gradients) and float32 x·Wᵀ products (Note [float32 matmul blocks]) give the same
// bits with 1, 2 and 3 threads, and the default count shrinks under load.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
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

// Note [float32 matmul blocks]: x·Wᵀ cut into blocks of C by its shape alone: rows and columns
// (the last of each short), one block, one row, a long and thin product (where a product
// planned for several threads splits K), a batch, a bias added in C (the sum post-op) and a
// strided x. The same bits on 1, 2 and 3 threads, and float64's values.
TEST(Threads, Float32ProductsByBlocksDoNotDependOnIt) {
  struct Case {
    Shape x, w;
    bool bias;
  };
  const Case cases[] = {{{300, 77}, {40, 77}, true},      {{129, 16}, {600, 16}, false},
                        {{50, 33}, {600, 33}, true},      {{7, 5}, {9, 5}, false},
                        {{3, 50000}, {2, 50000}, false},  {{64, 20000}, {64, 20000}, false},
                        {{2, 130, 9}, {2, 20, 9}, false}, {{128, 784}, {512, 784}, true},
                        {{1, 784}, {512, 784}, true},     {{112, 1152}, {256, 1152}, true}};
  const int saved = get_num_threads();
  Generator g(5);
  for (const Case& c : cases) {
    SCOPED_TRACE(to_string(c.x) + " x " + to_string(c.w) + "^T");
    const Tensor x = randn(c.x, DType::Float32, &g);
    const Tensor w = randn(c.w, DType::Float32, &g);
    const Tensor b = c.bias ? randn({c.w[c.w.size() - 2]}, DType::Float32, &g) : Tensor();
    const auto product = [&](const Tensor& xs, const Tensor& ws, const Tensor& bs) {
      if (c.x.size() == 3) return matmul(xs, ws.transpose(1, 2));
      return linear(xs, ws, bs);
    };
    Tensor first;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      const Tensor y = product(x, w, b);
      if (!first.defined()) first = y;
      EXPECT_TRUE(testing::tensors_bitwise_equal(y, first)) << threads << " threads";
    }
    const Tensor reference = product(x.to(DType::Float64), w.to(DType::Float64),
                                     c.bias ? b.to(DType::Float64) : Tensor());
    const double k = static_cast<double>(c.x.back());
    EXPECT_TRUE(
        testing::tensors_close(first.to(DType::Float64), reference, 1e-5 * std::sqrt(k), 1e-5));
  }
  // A strided x (every other row of a larger one) reads its rows where they are.
  set_num_threads(2);
  const Tensor big = randn({400, 31}, DType::Float32, &g);
  const Tensor w = randn({70, 31}, DType::Float32, &g);
  const Tensor strided = big.slice(0, 0, 400, 2);
  EXPECT_TRUE(testing::tensors_bitwise_equal(linear(strided, w), linear(strided.contiguous(), w)));
  set_num_threads(saved);
}

// Note [threads under load]: the online cores less the runnable tasks that are not ours,
// between 1 and the default; a count the user chose is kept.
TEST(Threads, UnderLoadTheDefaultCountShrinks) {
  using threads_detail::running_tasks;
  using threads_detail::threads_for_load;
  // 2 cores: idle (our worker asleep or spinning), one busy process, two.
  EXPECT_EQ(threads_for_load(2, 2, 1, 2), 2);
  EXPECT_EQ(threads_for_load(2, 2, 2, 2), 2);
  EXPECT_EQ(threads_for_load(2, 2, 3, 2), 1);
  EXPECT_EQ(threads_for_load(2, 2, 4, 2), 1);
  EXPECT_EQ(threads_for_load(2, 2, 3, 1), 1);  // on one thread beside two: stays
  EXPECT_EQ(threads_for_load(2, 2, 1, 1), 2);  // they ended: back to two
  // 64 cores, a default of 8 (OMP_NUM_THREADS or an affinity mask): 40 busy leave room.
  EXPECT_EQ(threads_for_load(8, 64, 48, 8), 8);
  EXPECT_EQ(threads_for_load(8, 64, 66, 8), 6);
  EXPECT_EQ(threads_for_load(8, 64, 200, 8), 1);
  EXPECT_EQ(running_tasks("0.59 0.75 1.26 3/109 5842\n"), 3);
  EXPECT_EQ(running_tasks("0.59 0.75 1.26"), -1);
  EXPECT_EQ(running_tasks(""), -1);
  const int saved = get_num_threads();
  set_num_threads(2);
  for (int i = 0; i < 3; ++i) {
    adapt_threads_to_load();
    EXPECT_EQ(get_num_threads(), 2);
  }
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
