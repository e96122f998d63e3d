// The training kernels on CUDA against their CPU twins: every optimizer update (with and
// without clip control), the global norm, the skipped step, dropout masks bit for bit,
// and a whole training step captured into a CUDA graph (no host synchronisation inside).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "../../foundation/config.h"

#if TG_WITH_CUDA
#include <cuda_runtime.h>
#endif

#include "../../core/autograd.h"
#include "../../core/context.h"
#include "../../core/cuda_graph.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../optim/optim.h"
#include "../support/parity.h"

namespace tg {
namespace {

const int64_t kSizes[] = {0,    1,     3,     31,    32,      33,           255,
                          256,  257,   1023,  1024,  1025,    4095,         4096,
                          4097, 65535, 65536, 65537, 1 << 20, (1 << 20) + 3};

// A step count of `taken` updates on the device of `like` (so the update is step taken + 1).
Tensor step_count(const Tensor& like, int64_t taken) {
  return full({}, static_cast<double>(taken), TensorOptions(DType::Int64).device(like.device()));
}

using Update = std::function<void(const std::vector<Tensor>& buffers, const ClipState* control)>;

// Runs `update` three times on identical buffers (params, grads, states) on both devices
// and compares every buffer. Shifted: every buffer starts one element into its storage, so
// it is not 16-byte aligned and the CUDA kernels take their one-element path.
void compare_update(const char* name, int state_count, const Update& update, bool with_clip) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (int64_t n : kSizes) {
      for (bool shifted : {false, true}) {
        if (n > testing::parity_element_limit() || (shifted && n > 65537)) continue;
        SCOPED_TRACE(std::string(name) + " " + dtype_name(dtype) + " n " + std::to_string(n) +
                     (shifted ? " shifted" : ""));
        std::vector<Tensor> cpu, gpu;
        Generator g(n + 5);
        const int64_t shift = shifted ? 1 : 0;
        for (int i = 0; i < 2 + state_count; ++i) {
          // States start non-negative, the first one in [1, 2) so that a centered
          // RMSProp's square average stays above its squared mean average.
          Tensor t = i < 2 ? randn({n + shift}, dtype, &g)
                           : (i == 2 ? uniform({n + shift}, 1.0, 2.0, dtype, &g)
                                     : uniform({n + shift}, 0.0, 0.5, dtype, &g));
          cpu.push_back(t.slice(0, shift, n + shift));
          gpu.push_back(t.to(Device::cuda()).slice(0, shift, n + shift));
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
}

TEST(TrainingKernelsCuda, OptimizerUpdatesMatchCpu) {
  TG_REQUIRE_CUDA();
  optim::Regularization all;
  all.l2_penalty = 0.01;
  all.l1_penalty = 0.001;
  all.decoupled_weight_decay = 0.02;
  for (bool clip : {false, true}) {
    compare_update(
        "adam+amsgrad", 3,
        [&](const std::vector<Tensor>& b, const ClipState* c) {
          optim::AdamParams h;
          h.amsgrad = true;
          h.regularization = all;
          h.lr = 1e-2;
          adam_update_(b[0], b[1], b[2], b[3], b[4], h, step_count(b[0], 4), c);
        },
        clip);
    compare_update(
        "sgd nesterov", 1,
        [&](const std::vector<Tensor>& b, const ClipState* c) {
          optim::SGDParams h;
          h.momentum = 0.9;
          h.nesterov = true;
          h.regularization = all;
          sgd_update_(b[0], b[1], b[2], h, step_count(b[0], 4), c);
        },
        clip);
    compare_update(
        "adagrad", 1,
        [&](const std::vector<Tensor>& b, const ClipState* c) {
          optim::AdagradParams h;
          h.regularization = all;
          h.lr = 0.05;
          h.lr_decay = 0.1;
          adagrad_update_(b[0], b[1], b[2], h, step_count(b[0], 4), c);
        },
        clip);
    compare_update(
        "rmsprop centered momentum", 3,
        [&](const std::vector<Tensor>& b, const ClipState* c) {
          optim::RMSpropParams h;
          h.centered = true;
          h.momentum = 0.5;
          h.regularization = all;
          rmsprop_update_(b[0], b[1], b[2], b[3], b[4], h, c);
        },
        clip);
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
    // A view that starts one element in is not 16-byte aligned: the scalar path.
    const Tensor shifted = a.slice(0, 1, n);
    EXPECT_TRUE(testing::tensors_close(global_grad_norm({shifted.to(Device::cuda())}, 1.0).norm,
                                       global_grad_norm({shifted}, 1.0).norm, 0, 1e-6))
        << n;
    EXPECT_TRUE(
        testing::tensors_close(global_grad_norm({a.to(Device::cuda()).slice(0, 1, n)}, 1.0).norm,
                               global_grad_norm({shifted}, 1.0).norm, 0, 1e-6))
        << n;
  }
}

// Stage 2 runs in the last block of the last buffer's launch, counted with a device
// counter that must be back at 0 after every call: one state reused over calls with a
// different number of blocks each, a last buffer without elements, and no elements at all.
TEST(TrainingKernelsCuda, GlobalNormFinishesInTheLastBlockOfEveryCall) {
  TG_REQUIRE_CUDA();
  const Tensor large = randn({(3 << 20) + 5}), small = randn({33}, DType::Float64);
  const Tensor none = empty({0});
  const std::vector<std::vector<Tensor>> lists = {
      {large, small}, {small, none}, {none}, {small, large}, {large}};
  ClipState state;
  for (int round = 0; round < 2; ++round) {
    for (const auto& list : lists) {
      std::vector<Tensor> on_gpu;
      for (const Tensor& t : list) on_gpu.push_back(t.to(Device::cuda()));
      const ClipState cpu = global_grad_norm(list, 0.5);
      global_grad_norm_(on_gpu, 0.5, state);
      EXPECT_TRUE(testing::tensors_close(state.norm, cpu.norm, 0, 1e-6))
          << list.size() << " " << round;
      EXPECT_TRUE(testing::tensors_close(state.scale, cpu.scale, 0, 1e-6))
          << list.size() << " " << round;
      EXPECT_EQ(state.arrivals.item<int64_t>(), 0);
    }
  }
  global_grad_norm_({none.to(Device::cuda())}, 0.5, state);
  EXPECT_EQ(state.norm.item<float>(), 0.0f);
  EXPECT_EQ(state.scale.item<float>(), 1.0f);
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
      // An input one element into its storage is not 16-byte aligned: the one-element path.
      const Tensor wide = randn({n + 1});
      EXPECT_TRUE(testing::tensors_bitwise_equal(
          dropout(wide.to(Device::cuda()).slice(0, 1, n + 1), p, true, &b),
          dropout(wide.slice(0, 1, n + 1), p, true, &a)))
          << n << " p " << p << " shifted";
    }
  }
}

TEST(TrainingKernelsCuda, TrainingStepCapturesIntoACudaGraph) {
  TG_REQUIRE_CUDA();
#if TG_WITH_CUDA
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

// A small MLP step with dropout, global-norm clipping and Adam, on its own parameters and
// dropout generator.
struct GraphModel {
  Tensor w1, b1, w2, b2;
  Generator dropout_generator{11};
  std::unique_ptr<optim::Adam> opt;

  explicit GraphModel(const Device& dev) {
    Generator init(7);
    const TensorOptions f32 = TensorOptions(DType::Float32).device(dev);
    w1 = mul(randn({64, 100}, f32, &init), 0.1).detach().requires_grad_();
    b1 = zeros({64}, f32).requires_grad_();
    w2 = mul(randn({10, 64}, f32, &init), 0.1).detach().requires_grad_();
    b2 = zeros({10}, f32).requires_grad_();
    optim::AdamParams h;
    h.lr = 1e-2;
    opt = std::make_unique<optim::Adam>(std::vector<Tensor>{w1, b1, w2, b2}, h);
  }
  void step(const Tensor& x, const Tensor& y) {
    opt->zero_grad();
    const Tensor h = dropout(relu(linear(x, w1, b1)), 0.3, true, &dropout_generator);
    cross_entropy(linear(h, w2, b2), y).backward();
    opt->clip_grad_norm(1.0);
    opt->step();
  }
};

// Replays of a captured step must be the steps themselves: Adam's step count advances on
// the device (Note [device step count]) and dropout draws a fresh mask from its generator
// each replay (Note [random numbers in CUDA graphs]). With the step count and the Philox
// offset baked into the graph, every replay repeated step 2's bias corrections and mask.
TEST(TrainingKernelsCuda, CudaGraphReplaysMatchEagerSteps) {
  TG_REQUIRE_CUDA();
  const Device dev = Device::cuda();
  Generator data(3);
  const Tensor x = randn({32, 100}, TensorOptions().device(dev), &data);
  const Tensor y =
      uniform({32}, 0, 10, TensorOptions(DType::Float64).device(dev), &data).to(DType::Int64);
  GraphModel eager(dev), graphed(dev);
  for (int i = 0; i < 5; ++i) eager.step(x, y);

  graphed.step(x, y);  // warm-up, eagerly
  context(dev).synchronize();
  CudaGraph graph(dev);
  graph.capture_begin();
  graphed.step(x, y);  // recorded, not run
  graph.capture_end();
  EXPECT_EQ(graphed.opt->steps(), 1) << "capturing runs nothing";
  for (int i = 0; i < 4; ++i) graph.replay();

  EXPECT_EQ(graphed.opt->steps(), 5);
  EXPECT_EQ(graphed.dropout_generator.offset(), eager.dropout_generator.offset());
  const std::vector<std::pair<Tensor, Tensor>> pairs{{graphed.w1, eager.w1},
                                                     {graphed.b1, eager.b1},
                                                     {graphed.w2, eager.w2},
                                                     {graphed.b2, eager.b2}};
  for (const auto& [got, want] : pairs) {
    EXPECT_TRUE(testing::tensors_close(got.detach(), want.detach(), 1e-6, 1e-5));
  }
}

// A tensor made before a capture and dropped during it (a previous step's loss that the
// captured step replaces) must not be freed into the graph: cudaFreeAsync there may only
// free the graph's own allocations, and the capture would fail. Its free waits for the
// capture to end (Note [frees during graph capture], core/cuda_backend.cpp).
TEST(TrainingKernelsCuda, TensorsDroppedDuringACaptureAreFreedAfterIt) {
  TG_REQUIRE_CUDA();
  const Device dev = Device::cuda();
  const Tensor input = full({1 << 16}, 2.0, dev);
  Tensor out = zeros({1 << 16}, dev);
  Tensor previous = full({1 << 16}, 7.0, dev);  // not read by the captured work
  CudaGraph graph(dev);
  graph.capture_begin();
  {
    const Tensor made_inside = mul(input, 3.0);  // allocated and freed in the graph
    previous = made_inside;                      // drops the block made before the capture
    out.copy_(made_inside);
  }
  previous = Tensor();
  ASSERT_NO_THROW(graph.capture_end());
  graph.replay();
  EXPECT_EQ(out.select(0, 12345).item<float>(), 6.0f);
  // The deferred block is back in the pool: new tensors reuse it without harm.
  const Tensor after = full({1 << 16}, 5.0, dev);
  out.fill_(0.0);
  graph.replay();
  EXPECT_EQ(sum(after).item<float>(), 5.0f * (1 << 16));
  EXPECT_EQ(sum(out).item<float>(), 6.0f * (1 << 16));
}

// The loss scaler's update (kernels/loss_scale.h) on both devices over the same flags:
// backoffs, growths, a growth past float32's range (kept), and the counts.
TEST(LossScaleCuda, UpdatesMatchTheCpu) {
  TG_REQUIRE_CUDA();
  const optim::LossScalerOptions options{1e38, 2.0, 0.5, 2};
  LossScaleState cpu = make_loss_scale_state(options, Device::cpu());
  LossScaleState gpu = make_loss_scale_state(options, Device::cuda());
  const int flags[] = {0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0};
  for (int flag : flags) {
    const Tensor skip = full({}, flag, DType::UInt8);
    update_loss_scale_(cpu, skip);
    update_loss_scale_(gpu, skip.to(Device::cuda()));
    for (const auto& [a, b] : {std::pair<Tensor, Tensor>{cpu.scale, gpu.scale},
                               {cpu.growth_tracker, gpu.growth_tracker},
                               {cpu.skipped_steps, gpu.skipped_steps},
                               {cpu.step_scale, gpu.step_scale},
                               {cpu.step_skipped, gpu.step_skipped}}) {
      ASSERT_TRUE(testing::tensors_bitwise_equal(b, a));
    }
  }
  EXPECT_EQ(cpu.skipped_steps.item<int64_t>(), 3);
  EXPECT_TRUE(std::isfinite(cpu.scale.item<float>()));
}

}  // namespace
}  // namespace tg
