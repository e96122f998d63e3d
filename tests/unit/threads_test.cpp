// tg::set_num_threads / get_num_threads: what is set is what is read, a thread count below
// one is refused by name, and our own kernels (elementwise, reductions, the fused LSTM cell
// and their gradients) give the same bits with 1 and 2 threads. (oneDNN's float32 GEMM does
// not promise that: core/threads.h.)
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tg
