// bench_train_step: one whole training step (forward, cross-entropy, backward, Adam step)
// of the MNIST models at batch 128 on the CPU, and the ops that dominate it, as the median
// of many runs after warm-up. Its PyTorch twin, bench/torch_train_step.py, times the same
// work; given that script's output from one or more PyTorch builds (--peer NAME=FILE, once
// per build), each row also prints each peer's time, the best peer's, the ratio ours/best
// (below 1: we are faster), and the row's floor: its matrix-product FLOPs at the float32
// GEMM rate plus its unavoidable bytes at the copy bandwidth, both measured at the start of
// the same run (Note [row floors]). bench/train_step.sh runs it all.
//
// The _bf16 rows run the same work under autocast (core/autocast.h: the products in
// bfloat16, on AMX or AVX512-BF16 where the CPU has them) against PyTorch's CPU autocast;
// their floors are left blank (the float32 GEMM rate is not theirs).
// The cnn_telemetry rows time the gradient telemetry (optim/telemetry.h) beside a CNN step.
// With --device cuda the step rows run on the GPU, each with an _issue row beside it (the
// host's share), and the op rows are left out.
//
//   bench_train_step [--threads N] [--runs N] [--peer [NAME=]FILE]... [--only PREFIX] [--json]
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "../core/autocast.h"
#include "../core/autograd.h"
#include "../core/factory.h"
#include "../core/generator.h"
#include "../core/ops.h"
#include "../core/threads.h"
#include "../examples/mnist_models.h"
#include "../foundation/version.h"
#include "../optim/adam.h"
#include "../optim/telemetry.h"
#include "bench_common.h"
#include "step_table.h"

namespace tg::bench {
namespace {

struct Options {
  int threads = 0;
  int runs = 30;
  // (name, file) of "row ms" lines from bench/torch_train_step.py, one per PyTorch build
  std::vector<std::pair<std::string, std::string>> peers;
  std::string only;  // run only the rows whose name starts with this (for profiling)
  bool json = false;
  std::string device = "cpu";  // cuda: the step rows on the GPU (the op rows are CPU-only)
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--threads" && has_value) {
      o.threads = std::atoi(argv[++i]);
    } else if (arg == "--runs" && has_value) {
      o.runs = std::atoi(argv[++i]);
    } else if (arg == "--peer" && has_value) {
      const std::string value = argv[++i];
      const size_t eq = value.find('=');
      if (eq == std::string::npos) {
        o.peers.emplace_back("torch", value);
      } else {
        o.peers.emplace_back(value.substr(0, eq), value.substr(eq + 1));
      }
    } else if (arg == "--only" && has_value) {
      o.only = argv[++i];
    } else if (arg == "--device" && has_value) {
      o.device = argv[++i];
    } else if (arg == "--json") {
      o.json = true;
    } else {
      std::fprintf(stderr,
                   "bench_train_step: unknown or incomplete argument '%s'\n"
                   "usage: bench_train_step [--threads N] [--runs N] [--peer [NAME=]FILE]... "
                   "[--only PREFIX]\n"
                   "       [--device cpu|cuda] [--json]\n",
                   argv[i]);
      std::exit(2);
    }
  }
  if (o.runs < 20) o.runs = 20;
  return o;
}

constexpr int64_t kBatch = 128;

// One Adam step of `model` on a fixed batch, as mnist_train takes it, on x's device. On a
// GPU a second row, <name>_issue, is the host's time to issue the step (no wait): when it
// is as long as the step, the GPU waits for the host.
double train_step_rows(Table& table, const std::string& name, layers::Module& model,
                       const Tensor& x, const Tensor& y, int runs, double flops,
                       DType precision = DType::Float32) {
  model.to(x.device());
  // Adam's flat buffers: zero_grad writes g, the step reads p, g, m, v and writes p, m, v.
  int64_t parameters = 0;
  for (const Tensor& p : model.parameters()) parameters += p.numel();
  optim::Adam opt(model.parameters(), optim::AdamParams{});
  const auto step = [&] {
    opt.zero_grad();
    Tensor loss;
    {
      const autocast low(precision);
      loss = cross_entropy(model(x), y);
    }
    loss.backward();
    opt.step();
  };
  const double seconds = median_seconds(x.device(), runs, step);
  table.row(name, seconds,
            precision == DType::Float32 ? Work{flops, 32.0 * static_cast<double>(parameters), true}
                                        : Work{});
  if (!x.device().is_cpu())
    table.row(name + "_issue", median_issue_seconds(x.device(), runs, step));
  return seconds;
}

// The gradient telemetry's cost beside a CNN step (optim/telemetry.h; the issue's bound:
// 2%): the step with record() + poll() after it, and record() + poll() alone.
void telemetry_rows(Table& table, const Tensor& x, const Tensor& y, int runs, double cnn_step) {
  if (!table.wants("cnn_telemetry")) return;
  auto model = examples::mnist_cnn();
  model->to(x.device());
  optim::Adam opt(model->parameters(), optim::AdamParams{});
  optim::GradientTelemetry telemetry(opt, model->named_parameters());
  int64_t step = 0;
  const double monitored = median_seconds(x.device(), runs, [&] {
    opt.zero_grad();
    cross_entropy((*model)(x), y).backward();
    opt.step();
    telemetry.record(step++);
    while (telemetry.poll()) {
    }
  });
  table.row("cnn_step_with_telemetry", monitored);
  const double alone = median_seconds(x.device(), runs, [&] {
    telemetry.record(step++);
    while (telemetry.poll()) {
    }
  });
  table.row("cnn_telemetry", alone);
  if (cnn_step > 0) {
    std::printf("# telemetry on %s: %.2f%% of a cnn step (record + poll alone / cnn_step)\n",
                x.device().str().c_str(), 100 * alone / cnn_step);
  }
}

// The products of a step at batch kBatch (Note [row floors]): forward, weight gradient and,
// unless the layer reads the data (whose gradient nobody needs), input gradient.
double linear_flops(double in, double out, bool input_grad) {
  return 2.0 * kBatch * in * out * (input_grad ? 3 : 2);
}
double conv3x3_flops(double in, double out, double pixels, bool input_grad) {
  return 2.0 * kBatch * in * out * 9 * pixels * (input_grad ? 3 : 2);
}

// Forward alone and forward + backward of one op, the upstream gradient all ones; `fwd` and
// `fwd_bwd` are their floors' work.
void op_rows(Table& table, const std::string& name, int runs,
             const std::function<Tensor()>& forward, Work fwd, Work fwd_bwd) {
  if (!table.wants(name)) return;
  table.row(name + "_fwd",
            median_seconds(Device::cpu(), runs,
                           [&] {
                             NoGradGuard no_grad;
                             forward();
                           }),
            fwd);
  const Tensor probe = forward();
  const Tensor ones_grad = ones(probe.shape());
  table.row(name + "_fwd_bwd",
            median_seconds(Device::cpu(), runs, [&] { forward().backward(ones_grad); }), fwd_bwd);
}

// A product-like op's work: x, w (with its bias b) and y elements; the backward reads y's
// gradient, x and w and writes the gradients of x, w and b.
std::pair<Work, Work> product_work(double flops, double x, double w, double b, double y) {
  const Work fwd{flops, 4 * (x + w + b + y)};
  return {fwd, Work{3 * flops, fwd.bytes + 4 * (y + 2 * x + 2 * w + b)}};
}

Tensor leaf(std::vector<int64_t> shape, Generator& gen) {
  Tensor t = randn(shape, TensorOptions(DType::Float32), &gen);
  t.requires_grad_(true);
  return t;
}

void run(const Options& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  std::printf("# bench_train_step: tamegrad %s, %d threads, batch %lld, median of %d runs\n",
              TAMEGRAD_VERSION, omp_get_max_threads(), static_cast<long long>(kBatch), o.runs);
  std::printf("# %s\n", cpu_backend_description().c_str());
  const Device device(o.device);
  Table table(o.peers, o.only, o.json);
  if (device.is_cpu()) table.set_rates(measure_rates());
  Generator gen(0);
  std::vector<int64_t> label_values(kBatch);
  for (int64_t i = 0; i < kBatch; ++i) label_values[i] = (i * 7) % 10;
  const Tensor labels = from_vector(label_values, {kBatch});

  const Tensor images = randn({kBatch, 1, 28, 28}, {}, &gen).to(device);
  const Tensor labels_on_device = labels.to(device);
  if (table.wants("mlp_step")) {
    const double flops =
        linear_flops(784, 512, false) + linear_flops(512, 256, true) + linear_flops(256, 10, true);
    train_step_rows(table, "mlp_step", *examples::mnist_mlp(), images, labels_on_device, o.runs,
                    flops);
  }
  double cnn_step = 0;
  if (table.wants("cnn_step")) {
    const double flops = conv3x3_flops(1, 32, 28 * 28, false) +
                         conv3x3_flops(32, 64, 14 * 14, true) +
                         conv3x3_flops(64, 128, 7 * 7, true) + linear_flops(1152, 256, true) +
                         linear_flops(256, 10, true);
    cnn_step = train_step_rows(table, "cnn_step", *examples::mnist_cnn(), images, labels_on_device,
                               o.runs, flops);
  }
  if (table.wants("mlp_step_bf16")) {
    train_step_rows(table, "mlp_step_bf16", *examples::mnist_mlp(), images, labels_on_device,
                    o.runs, 0, DType::BFloat16);
  }
  if (table.wants("cnn_step_bf16")) {
    train_step_rows(table, "cnn_step_bf16", *examples::mnist_cnn(), images, labels_on_device,
                    o.runs, 0, DType::BFloat16);
  }
  telemetry_rows(table, images, labels_on_device, o.runs, cnn_step);
  if (!device.is_cpu()) return;  // the op rows compare CPU backends

  const double b = kBatch;
  const Tensor x784 = leaf({kBatch, 784}, gen), w1 = leaf({512, 784}, gen), b1 = leaf({512}, gen);
  const auto [linear_fwd, linear_fwd_bwd] =
      product_work(2 * b * 784 * 512, b * 784, 784 * 512, 512, b * 512);
  op_rows(
      table, "linear_784_512", o.runs, [&] { return linear(x784, w1, b1); }, linear_fwd,
      linear_fwd_bwd);
  op_rows(
      table, "linear_784_512_bf16", o.runs,
      [&] {
        const autocast low(DType::BFloat16);
        return linear(x784, w1, b1);
      },
      Work{}, Work{});
  const Tensor x14 = leaf({kBatch, 32, 14, 14}, gen), wc = leaf({64, 32, 3, 3}, gen),
               bc = leaf({64}, gen);
  const auto [conv_fwd, conv_fwd_bwd] =
      product_work(2 * b * 64 * 32 * 9 * 196, b * 32 * 196, 64 * 32 * 9, 64, b * 64 * 196);
  op_rows(
      table, "conv2d_32_64_14", o.runs,
      [&] {
        return conv2d(x14, wc, bc, {1, 1}, {1, 1});
      },
      conv_fwd, conv_fwd_bwd);
  op_rows(
      table, "conv2d_32_64_14_bf16", o.runs,
      [&] {
        const autocast low(DType::BFloat16);
        return conv2d(x14, wc, bc, {1, 1}, {1, 1});
      },
      Work{}, Work{});
  const Tensor a14 = leaf({kBatch, 64, 14, 14}, gen), gamma = leaf({64}, gen),
               beta = leaf({64}, gen);
  Tensor mean = zeros({64}), var = ones({64});
  // Elementwise-like rows, n elements of 4 bytes: bytes read and written at least once.
  const double n = b * 64 * 196;
  op_rows(
      table, "batch_norm_64_14", o.runs,
      [&] { return batch_norm(a14, mean, var, gamma, beta, true, 0.1, 1e-5); }, Work{0, 8 * n},
      Work{0, 20 * n});  // backward: reads g and x, writes dx
  op_rows(
      table, "max_pool2d_64_14", o.runs,
      [&] {
        return max_pool2d(a14, {2, 2});
      },
      Work{0, 7 * n},    // reads x, writes a quarter of values and int64 positions
      Work{0, 14 * n});  // backward: reads g and positions, writes dx
  op_rows(
      table, "relu_64_14", o.runs, [&] { return relu(a14); }, Work{0, 8 * n}, Work{0, 20 * n});
  const Tensor h512 = leaf({kBatch, 512}, gen);
  const double m = b * 512;
  op_rows(
      table, "dropout_512", o.runs, [&] { return dropout(h512, 0.2, true); }, Work{0, 8 * m},
      Work{0, 16 * m});  // backward: the mask drawn again, reads g, writes dx
}

}  // namespace
}  // namespace tg::bench

int main(int argc, char** argv) {
  tg::use_openmp_spin_policy(argv);  // Note [OpenMP wait policy] in core/threads.h
  try {
    tg::bench::run(tg::bench::parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train_step: %s\n", e.what());
    return 1;
  }
  return 0;
}
