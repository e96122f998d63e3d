// The training kernels on CUDA against their CPU twins: every optimizer update (with and
// without clip control), the global norm, the skipped step, dropout masks bit for bit,
// and a whole training step captured into a CUDA graph (no host synchronisation inside).
#include <gtest/gtest.h>

#if TG_TEST_WITH_CUDA
#include <cuda_runtime.h>
#endif

#include "core/autograd.h"
#include "core/context.h"
#include "core/factory.h"
#include "core/ops.h"
#include "optim/optim.h"
#include "tests/support/parity.h"

namespace tg {
namespace {

const int64_t kSizes[] = {0, 1, 3, 31, 32, 33, 255, 256, 257, 1023, 1024, 1025, 4095, 4096, 4097,
                          65535, 65536, 65537, 1 << 20, (1 << 20) + 3};

using Update = std::function<void(const std::vector<Tensor>& buffers, const ClipState* control)>;

// Runs `update` three times on identical buffers (params, grads, states) on both devices
// and compares every buffer.
void compare_update(const char* name, int state_count, const Update& update, bool with_clip) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (int64_t n : kSizes) {
      if (n > testing::parity_element_limit()) continue;
      SCOPED_TRACE(std::string(name) + " " + dtype_name(dtype) + " n " + std::to_string(n));
      std::vector<Tensor> cpu, gpu;
      Generator g(n + 5);
      for (int i = 0; i < 2 + state_count; ++i) {
        // States start non-negative, the first one in [1, 2) so that a centered
        // RMSProp's square average stays above its squared mean average.
        Tensor t = i < 2 ? randn({n}, dtype, &g)
                         : (i == 2 ? uniform({n}, 1.0, 2.0, dtype, &g) : uniform({n}, 0.0, 0.5, dtype, &g));
        cpu.push_back(t);
        gpu.push_back(t.to(Device::cuda()));
      }
      for (int step = 0; step < 3; ++step) {
        if (with_clip) {
          const ClipState cpu_clip = global_grad_norm({cpu[1]}, 0.5);
          const ClipState gpu_clip = global_grad_norm({gpu[1]}, 0.5);
          update(cpu, &cpu_clip);
          update(gpu, &gpu_clip);
        } else {
          update(cpu, nullptr);
          update(gpu, nullptr);
        }
      }
      const double tol = dtype == DType::Float32 ? 1e-5 : 1e-12;
      for (size_t i = 0; i < cpu.size(); ++i) {
        EXPECT_TRUE(testing::tensors_close(gpu[i], cpu[i], tol, tol)) << "buffer " << i;
      }
    }
  }
}

TEST(TrainingKernelsCuda, OptimizerUpdatesMatchCpu) {
  TG_REQUIRE_CUDA();
  optim::Regularization all;
  all.l2_penalty = 0.01;
  all.l1_penalty = 0.001;
  all.decoupled_weight_decay = 0.02;
  for (bool clip : {false, true}) {
    compare_update("adam+amsgrad", 3, [&](const std::vector<Tensor>& b, const ClipState* c) {
      kernels::AdamStep s{};
      s.params.amsgrad = true;
      s.params.regularization = all;
      s.step_size = 1e-2;
      s.bias_correction2_sqrt = 0.3;
      adam_update_(b[0], b[1], b[2], b[3], b[4], s, c);
    }, clip);
    compare_update("sgd nesterov", 1, [&](const std::vector<Tensor>& b, const ClipState* c) {
      kernels::SgdParams h{};
      h.momentum = 0.9;
      h.nesterov = true;
      h.regularization = all;
      sgd_update_(b[0], b[1], b[2], kernels::sgd_step(h, false), c);
    }, clip);
    compare_update("adagrad", 1, [&](const std::vector<Tensor>& b, const ClipState* c) {
      kernels::AdagradStep s{};
      s.params.regularization = all;
      s.clr = 0.05;
      adagrad_update_(b[0], b[1], b[2], s, c);
    }, clip);
    compare_update("rmsprop centered momentum", 3, [&](const std::vector<Tensor>& b, const ClipState* c) {
      kernels::RmspropParams h{};
      h.centered = true;
      h.momentum = 0.5;
      h.regularization = all;
      rmsprop_update_(b[0], b[1], b[2], b[3], b[4], h, c);
    }, clip);
  }
}

TEST(TrainingKernelsCuda, GlobalNormMatchesCpuAndRepeats) {
  TG_REQUIRE_CUDA();
  for (int64_t n : kSizes) {
    if (n == 0) continue;
    const Tensor a = randn({n}), b = randn({n / 2 + 1}, DType::Float64);
    const ClipState cpu = global_grad_norm({a, b}, 1.0);
    const ClipState gpu = global_grad_norm({a.to(Device::cuda()), b.to(Device::cuda())}, 1.0);
    EXPECT_TRUE(testing::tensors_close(gpu.norm, cpu.norm, 0, 1e-6)) << n;
    EXPECT_TRUE(testing::tensors_close(gpu.scale, cpu.scale, 0, 1e-6)) << n;
    const ClipState again = global_grad_norm({a.to(Device::cuda()), b.to(Device::cuda())}, 1.0);
    EXPECT_TRUE(testing::tensors_bitwise_equal(again.norm, gpu.norm)) << n;
  }
}

TEST(TrainingKernelsCuda, NonFiniteNormSkipsTheStep) {
  TG_REQUIRE_CUDA();
  Tensor p = randn({1000}, Device::cuda()).requires_grad_();
  optim::Adam opt({p}, optim::AdamParams{});
  sum(mul(p, p)).backward();
  opt.step();
  const Tensor before = p.detach().clone();
  opt.zero_grad();
  {
    NoGradGuard guard;
    p.grad().fill_(NAN);
  }
  opt.clip_grad_norm(1.0);
  opt.step();
  EXPECT_TRUE(opt.last_step_skipped());
  EXPECT_TRUE(testing::tensors_bitwise_equal(p.detach(), before));
}

TEST(TrainingKernelsCuda, DropoutMasksAreBitIdenticalToTheCpu) {
  TG_REQUIRE_CUDA();
  for (int64_t n : kSizes) {
    for (double p : {0.1, 0.5, 0.9}) {
      Generator a(n), b(n);
      const Tensor x = randn({n});
      EXPECT_TRUE(testing::tensors_bitwise_equal(dropout(x.to(Device::cuda()), p, true, &b),
                                                 dropout(x, p, true, &a)))
          << n << " p " << p;
    }
  }
}

TEST(TrainingKernelsCuda, TrainingStepCapturesIntoACudaGraph) {
  TG_REQUIRE_CUDA();
#if TG_TEST_WITH_CUDA
  const Device dev = Device::cuda();
  Tensor w = mul(randn({10, 784}, dev), 0.01).detach().requires_grad_();
  Tensor bias = zeros({10}, dev).requires_grad_();
  optim::AdamW opt({w, bias});
  const Tensor x = randn({64, 784}, dev);
  const Tensor y = uniform({64}, 0, 10, TensorOptions(DType::Float64).device(dev)).to(DType::Int64);
  auto train_step = [&] {
    opt.zero_grad();
    cross_entropy(linear(x, w, bias), y).backward();
    opt.clip_grad_norm(1.0);
    opt.step();
  };
  train_step();  // warm-up: handles and pools exist before capture
  context(dev).synchronize();
  auto stream = static_cast<cudaStream_t>(context(dev).stream());
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), cudaSuccess);
  // Any host synchronisation inside the step would fail the capture.
  train_step();
  ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
#endif
}

}  // namespace
}  // namespace tg
