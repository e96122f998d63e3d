// Gradient sinks (Note [gradient sinks], core/autograd.h): a Linear whose weight already has a
// .grad adds dW = gᵀ·x into it during backward instead of returning a fresh tensor. The result
// is the accumulation's (bitwise the same when .grad starts at zero, as after zero_grad), the
// .grad keeps its storage (an optimizer's flat buffer), post-accumulate hooks still run, and no
// sink is offered where the accumulation must see the whole gradient first: a hook on the
// leaf, a leaf used twice, autograd::grad.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "../../core/autocast.h"
#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/host_cache.h"
#include "../../core/ops.h"
#include "../../layers/linear.h"
#include "../../optim/adam.h"
#include "../support/parity.h"

namespace tg {
namespace {

using testing::tensors_bitwise_equal;
using testing::tensors_close;

// A hook that keeps the gradient as it is: it turns the sink off for its leaf.
Tensor keep(const Tensor&) { return Tensor(); }

struct Batch {
  Tensor x, c;  // the input and the loss's gradient for y
};

Batch make_batch(int64_t batch, int64_t in, int64_t out, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return {randn({batch, in}, TensorOptions(dtype), &gen),
          randn({batch, out}, TensorOptions(dtype), &gen)};
}

// The same with y's gradient 80% zeros, as behind a ReLU and a dropout: its float32 products
// take the sparse rows path (Note [sparse rows product]), with beta = 1 into a sink.
Batch make_sparse_batch(int64_t batch, int64_t in, int64_t out, uint64_t seed) {
  Generator gen(seed);
  Batch b = make_batch(batch, in, out, DType::Float32, seed);
  b.c = mul(b.c, bernoulli({batch, out}, 0.2, {}, &gen));
  return b;
}

// backward of Σ (linear(x, w, b) · c), with w.grad as given (undefined: none yet).
void backward_once(layers::Linear& layer, const Batch& run) {
  sum(mul(layer(run.x), run.c)).backward();
}

TEST(GradSinks, AZeroGradGetsTheSameBitsAsAFreshGradient) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    // Shapes of the MNIST MLP's layers, odd ones, one row and an empty batch.
    for (auto [batch, in, out] : std::vector<std::array<int64_t, 3>>{
             {128, 784, 512}, {128, 512, 256}, {7, 13, 5}, {1, 9, 3}, {0, 6, 4}}) {
      const Batch run = make_batch(batch, in, out, dtype, 11);
      layers::Linear fresh(in, out, true, TensorOptions(dtype));
      layers::Linear sunk(in, out, true, TensorOptions(dtype));
      sunk.weight.detach().copy_(fresh.weight.detach());
      sunk.bias.detach().copy_(fresh.bias.detach());
      backward_once(fresh, run);  // no .grad yet: a fresh gradient, no sink
      Tensor grad = zeros({out, in}, TensorOptions(dtype));
      sunk.weight.set_grad(grad);
      const void* where = grad.raw_data_ptr();
      const int64_t version = grad.version();
      backward_once(sunk, run);
      EXPECT_EQ(sunk.weight.grad().raw_data_ptr(), where) << "the .grad was replaced";
      EXPECT_GT(sunk.weight.grad().version(), version);
      EXPECT_TRUE(tensors_bitwise_equal(sunk.weight.grad(), fresh.weight.grad()))
          << dtype << " " << batch << "x" << in << "x" << out;
      EXPECT_TRUE(tensors_bitwise_equal(sunk.bias.grad(), fresh.bias.grad()));
    }
  }
}

TEST(GradSinks, AMostlyZeroGradientGetsTheSameBitsToo) {
  const Batch run = make_sparse_batch(128, 784, 512, 13);
  layers::Linear fresh(784, 512), sunk(784, 512);
  sunk.weight.detach().copy_(fresh.weight.detach());
  sunk.bias.detach().copy_(fresh.bias.detach());
  backward_once(fresh, run);
  sunk.weight.set_grad(zeros({512, 784}));
  backward_once(sunk, run);
  EXPECT_TRUE(tensors_bitwise_equal(sunk.weight.grad(), fresh.weight.grad()));
}

TEST(GradSinks, AGradWithValuesGetsTheGradientAdded) {
  const Batch run = make_batch(33, 40, 24, DType::Float32, 3);
  layers::Linear layer(40, 24);
  const Tensor before = full({24, 40}, 0.25);
  layer.weight.set_grad(before.clone());
  backward_once(layer, run);
  backward_once(layer, run);  // twice: .grad = 0.25 + 2 cᵀ·x
  const Tensor once = matmul(run.c.transpose(0, 1).to(DType::Float64), run.x.to(DType::Float64));
  EXPECT_TRUE(tensors_close(layer.weight.grad(), add(before, mul(once, 2.0)), 1e-5, 1e-5));
}

TEST(GradSinks, PostAccumulateHooksSeeTheSunkGradient) {
  const Batch run = make_batch(16, 12, 8, DType::Float32, 5);
  layers::Linear layer(12, 8);
  layer.weight.set_grad(zeros({8, 12}));
  int calls = 0;
  Tensor seen;
  layer.weight.register_post_accumulate_grad_hook([&](const Tensor& leaf) {
    ++calls;
    seen = leaf.grad().clone();
  });
  backward_once(layer, run);
  EXPECT_EQ(calls, 1);
  const Tensor expected = matmul(run.c.transpose(0, 1), run.x);
  EXPECT_TRUE(tensors_close(seen, expected, 1e-5, 1e-5));
}

TEST(GradSinks, NotOfferedWhereTheWholeGradientIsNeededFirst) {
  const Batch run = make_batch(16, 12, 8, DType::Float32, 7);
  const Tensor dw = matmul(run.c.transpose(0, 1), run.x);
  {  // a hook that doubles the gradient: the .grad gets the doubled one
    layers::Linear layer(12, 8);
    layer.weight.set_grad(full({8, 12}, 1.0));
    layer.weight.register_hook([](const Tensor& g) { return mul(g, 2.0); });
    backward_once(layer, run);
    EXPECT_TRUE(tensors_close(layer.weight.grad(), add(mul(dw, 2.0), 1.0), 1e-5, 1e-5));
  }
  {  // one weight in two layers: both uses summed, then added
    layers::Linear a(12, 8), b(12, 8);
    b.weight = a.weight;
    a.weight.set_grad(zeros({8, 12}));
    sum(add(mul(a(run.x), run.c), mul(b(run.x), run.c))).backward();
    EXPECT_TRUE(tensors_close(a.weight.grad(), mul(dw, 2.0), 1e-5, 1e-5));
  }
  {  // autograd::grad leaves .grad alone
    layers::Linear layer(12, 8);
    layer.weight.set_grad(full({8, 12}, 3.0));
    const auto grads =
        autograd::grad({sum(mul(layer(run.x), run.c))}, {layer.weight}, {}, false, true);
    EXPECT_TRUE(tensors_bitwise_equal(layer.weight.grad(), full({8, 12}, 3.0)));
    EXPECT_TRUE(tensors_close(grads[0], dw, 1e-5, 1e-5));
  }
}

// The fresh gradient is a full-size temporary from the host cache (Note [host block cache]):
// with the sink there is one fewer such allocation per backward.
TEST(GradSinks, TheSinkSavesTheFullSizeTemporary) {
  const Batch run = make_batch(64, 256, 128, DType::Float32, 9);  // dW: 128 KiB, cacheable
  layers::Linear layer(256, 128);
  layer.weight.set_grad(zeros({128, 256}));
  auto cacheable_allocations = [&] {
    const HostCacheStats before = host_cache_stats();
    backward_once(layer, run);
    const HostCacheStats after = host_cache_stats();
    return (after.hits + after.misses) - (before.hits + before.misses);
  };
  if (host_cache_stats().limit_bytes == 0) GTEST_SKIP() << "the host cache is off here";
  cacheable_allocations();  // warm
  const int64_t with_sink = cacheable_allocations();
  layer.weight.register_hook(keep);
  const int64_t without = cacheable_allocations();
  EXPECT_EQ(without - with_sink, 1) << with_sink << " against " << without;
}

// Training through an optimizer's flat buffers: the same bits with and without sinks (a hook
// that keeps the gradient turns them off), in float32 and under bfloat16 autocast.
TEST(GradSinks, AdamStepsGiveTheSameBitsWithAndWithoutSinks) {
  for (bool half : {false, true}) {
    std::vector<Tensor> finals[2];
    for (int sinks = 0; sinks < 2; ++sinks) {
      Generator gen(21);
      layers::Linear first(30, 20), second(20, 6);
      for (layers::Linear* layer : {&first, &second}) {
        layer->weight.detach().copy_(randn(layer->weight.shape(), {}, &gen));
        layer->bias.detach().copy_(randn(layer->bias.shape(), {}, &gen));
        if (sinks == 0) layer->weight.register_hook(keep);
      }
      optim::Adam opt({first.weight, first.bias, second.weight, second.bias});
      for (int step = 0; step < 4; ++step) {
        const Batch run = make_batch(17, 30, 6, DType::Float32, 100 + step);
        opt.zero_grad();
        if (half) {
          autocast low(DType::BFloat16);
          sum(mul(second(relu(first(run.x))), run.c)).backward();
        } else {
          sum(mul(second(relu(first(run.x))), run.c)).backward();
        }
        opt.step();
      }
      finals[sinks] = {first.weight.detach().clone(), second.weight.detach().clone()};
    }
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_TRUE(tensors_bitwise_equal(finals[1][i], finals[0][i])) << "half " << half;
    }
  }
}

}  // namespace
}  // namespace tg
