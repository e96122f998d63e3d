// bench_train_step: one whole training step (forward, cross-entropy, backward, Adam step)
// of the MNIST models at batch 128 on the CPU, and the ops that dominate it, as the median
// of many runs after warm-up. Its PyTorch twin, bench/torch_train_step.py, times the same
// work; given that script's output (--peer FILE), each row also prints PyTorch's time and
// the ratio ours/PyTorch (below 1: we are faster). bench/train_step.sh runs both.
//
// The cnn_telemetry rows time the gradient telemetry (optim/telemetry.h) beside a CNN step.
// With --device cuda the step rows run on the GPU, each with an _issue row beside it (the
// host's share), and the op rows are left out.
//
//   bench_train_step [--threads N] [--runs N] [--peer FILE] [--only PREFIX] [--json]
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

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

namespace tg::bench {
namespace {

struct Options {
  int threads = 0;
  int runs = 30;
  std::string peer;  // "name ms" lines from bench/torch_train_step.py
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
      o.peer = argv[++i];
    } else if (arg == "--only" && has_value) {
      o.only = argv[++i];
    } else if (arg == "--device" && has_value) {
      o.device = argv[++i];
    } else if (arg == "--json") {
      o.json = true;
    } else {
      std::fprintf(
          stderr,
          "bench_train_step: unknown or incomplete argument '%s'\n"
          "usage: bench_train_step [--threads N] [--runs N] [--peer FILE] [--only PREFIX]\n"
          "       [--device cpu|cuda] [--json]\n",
          argv[i]);
      std::exit(2);
    }
  }
  if (o.runs < 20) o.runs = 20;
  return o;
}

std::map<std::string, double> read_peer(const std::string& path) {
  std::map<std::string, double> times;
  if (path.empty()) return times;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "bench_train_step: --peer %s: cannot read it\n", path.c_str());
    std::exit(2);
  }
  std::string name;
  double ms;
  while (in >> name >> ms) times[name] = ms;
  return times;
}

class Table {
 public:
  Table(const Options& o) : json_(o.json), only_(o.only), peer_(read_peer(o.peer)) {
    if (!json_) std::printf("%-24s %10s %10s %8s\n", "row", "ours_ms", "torch_ms", "ratio");
  }
  bool wants(const std::string& name) const { return name.compare(0, only_.size(), only_) == 0; }
  void row(const std::string& name, double seconds) {
    const double ms = seconds * 1e3;
    const auto it = peer_.find(name);
    const double torch_ms = it == peer_.end() ? 0.0 : it->second;
    if (json_) {
      std::printf("{\"name\": \"%s\", \"ours_ms\": %.4f", name.c_str(), ms);
      if (torch_ms > 0)
        std::printf(", \"torch_ms\": %.4f, \"ratio\": %.3f", torch_ms, ms / torch_ms);
      std::printf("}\n");
    } else if (torch_ms > 0) {
      std::printf("%-24s %10.3f %10.3f %8.2f\n", name.c_str(), ms, torch_ms, ms / torch_ms);
    } else {
      std::printf("%-24s %10.3f %10s %8s\n", name.c_str(), ms, "-", "-");
    }
    std::fflush(stdout);
  }

 private:
  bool json_;
  std::string only_;
  std::map<std::string, double> peer_;
};

constexpr int64_t kBatch = 128;

// One Adam step of `model` on a fixed batch, as mnist_train takes it, on x's device. On a
// GPU a second row, <name>_issue, is the host's time to issue the step (no wait): when it
// is as long as the step, the GPU waits for the host.
double train_step_rows(Table& table, const std::string& name, layers::Module& model,
                       const Tensor& x, const Tensor& y, int runs) {
  model.to(x.device());
  optim::Adam opt(model.parameters(), optim::AdamParams{});
  const auto step = [&] {
    opt.zero_grad();
    cross_entropy(model(x), y).backward();
    opt.step();
  };
  const double seconds = median_seconds(x.device(), runs, step);
  table.row(name, seconds);
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

// Forward alone and forward + backward of one op, the upstream gradient all ones.
void op_rows(Table& table, const std::string& name, int runs,
             const std::function<Tensor()>& forward) {
  if (!table.wants(name)) return;
  table.row(name + "_fwd", median_seconds(Device::cpu(), runs, [&] {
              NoGradGuard no_grad;
              forward();
            }));
  const Tensor probe = forward();
  const Tensor ones_grad = ones(probe.shape());
  table.row(name + "_fwd_bwd",
            median_seconds(Device::cpu(), runs, [&] { forward().backward(ones_grad); }));
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
  Table table(o);
  Generator gen(0);
  std::vector<int64_t> label_values(kBatch);
  for (int64_t i = 0; i < kBatch; ++i) label_values[i] = (i * 7) % 10;
  const Tensor labels = from_vector(label_values, {kBatch});

  const Device device(o.device);
  const Tensor images = randn({kBatch, 1, 28, 28}, {}, &gen).to(device);
  const Tensor labels_on_device = labels.to(device);
  if (table.wants("mlp_step"))
    train_step_rows(table, "mlp_step", *examples::mnist_mlp(), images, labels_on_device, o.runs);
  double cnn_step = 0;
  if (table.wants("cnn_step")) {
    cnn_step = train_step_rows(table, "cnn_step", *examples::mnist_cnn(), images, labels_on_device,
                               o.runs);
  }
  telemetry_rows(table, images, labels_on_device, o.runs, cnn_step);
  if (!device.is_cpu()) return;  // the op rows compare CPU backends

  const Tensor x784 = leaf({kBatch, 784}, gen), w1 = leaf({512, 784}, gen), b1 = leaf({512}, gen);
  op_rows(table, "linear_784_512", o.runs, [&] { return linear(x784, w1, b1); });
  const Tensor x14 = leaf({kBatch, 32, 14, 14}, gen), wc = leaf({64, 32, 3, 3}, gen),
               bc = leaf({64}, gen);
  op_rows(table, "conv2d_32_64_14", o.runs, [&] { return conv2d(x14, wc, bc, {1, 1}, {1, 1}); });
  const Tensor a14 = leaf({kBatch, 64, 14, 14}, gen), gamma = leaf({64}, gen),
               beta = leaf({64}, gen);
  Tensor mean = zeros({64}), var = ones({64});
  op_rows(table, "batch_norm_64_14", o.runs,
          [&] { return batch_norm(a14, mean, var, gamma, beta, true, 0.1, 1e-5); });
  op_rows(table, "max_pool2d_64_14", o.runs, [&] { return max_pool2d(a14, {2, 2}); });
  op_rows(table, "relu_64_14", o.runs, [&] { return relu(a14); });
  const Tensor h512 = leaf({kBatch, 512}, gen);
  op_rows(table, "dropout_512", o.runs, [&] { return dropout(h512, 0.2, true); });
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
