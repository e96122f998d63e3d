// tg_distributed_probe: set-ups that must end a distributed job with a clear error rather
// than a hang (run under mpirun by tests/scripts/distributed_programs_test.sh):
//   hang   the last rank sleeps past rank 0's time-out (1 s) before a barrier: rank 0's
//          barrier throws naming itself and the operation, and the job is aborted;
//   die    the last rank exits (code 3) before an all-reduce: mpirun ends the job, naming it.
// and two measurements:
//   bench    all_reduce of the MNIST models' gradient buffers (MLP 535,818 and CNN 390,858
//            float32) and of 25M floats (a 100 MB bucket): median of 20 after 3 warm-ups,
//            with the algorithm and bus bandwidth (bytes / time, × 2(n-1)/n);
//   overlap  how much of the gradients' reduction DataParallel's buckets hide behind
//            backward, for the MNIST CNN (batch 64 per rank) and a 100M-parameter MLP
//            (784-8192-8192-4096-10, batch 16 per rank), SGD: the median step of
//            forward+backward alone (compute), of the reduction alone after it (comm,
//            buckets as given, no overlap), and of the whole overlapped step; hidden =
//            (compute + comm - overlapped) / comm. `overlap [BUCKET_MB]` (default 25), then
//            `cnn` or `mlp` for one model.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../distributed/data_parallel.h"
#include "../../examples/mnist_models.h"
#include "../../optim/sgd.h"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Note the measurement in the header comment: three medians over `steps` steps each.
void measure_overlap(const std::shared_ptr<tg::distributed::ProcessGroup>& group, const char* name,
                     const std::shared_ptr<tg::layers::Sequential>& model, const tg::Shape& input,
                     double bucket_mb) {
  using namespace tg;
  optim::SGD opt(model->parameters());
  distributed::DataParallelOptions options;
  options.bucket_bytes = static_cast<int64_t>(bucket_mb * (1 << 20));
  distributed::DataParallel dp(group, opt, model->named_buffers(), options);
  Generator gen(7 + static_cast<uint64_t>(group->rank()));
  const Tensor x = randn(input, {}, &gen);
  const Tensor y = (rand({input[0]}, {}, &gen) * 9.999).to(DType::Int64);
  std::vector<double> compute, comm, overlapped, exposed;
  int started = 0;
  for (int step = 0; step < 9; ++step) {
    const bool timed = step >= 2;  // two warm-ups
    for (int mode = 0; mode < 3; ++mode) {
      opt.zero_grad();
      group->barrier();
      const auto start = Clock::now();
      if (mode == 2) dp.prepare_for_backward();
      cross_entropy((*model)(x), y).backward();
      const double backward = seconds_since(start);
      if (mode == 0) {
        if (timed) compute.push_back(backward);
        continue;
      }
      const auto reduce = Clock::now();
      dp.reduce_gradients();
      if (!timed) continue;
      if (mode == 1) comm.push_back(seconds_since(reduce));
      if (mode == 2) {
        overlapped.push_back(seconds_since(start));
        exposed.push_back(seconds_since(reduce));
        started = dp.last_reduce().started_in_backward;
      }
    }
  }
  const double c = median(compute), m = median(comm), o = median(overlapped);
  const double hidden = std::max(0.0, std::min(1.0, (c + m - o) / m));
  if (group->rank() == 0) {
    std::printf(
        "overlap %s, %d ranks, %zu buckets (%d started in backward), %.1f MB:\n"
        "  compute %.2f ms, comm %.2f ms, overlapped %.2f ms (of it %.2f ms after backward, so "
        "backward took %.2f ms): hidden %.0f%%\n",
        name, group->world_size(), dp.buckets().size(), started,
        4e-6 * static_cast<double>(model->parameter_count()), 1e3 * c, 1e3 * m, 1e3 * o,
        1e3 * median(exposed), 1e3 * (o - median(exposed)), 100 * hidden);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  int code = 0;
  try {
    tg::distributed::GroupOptions options;
    options.timeout_seconds = std::strcmp(mode, "hang") == 0 ? 1.0 : 60.0;
    auto group = tg::distributed::mpi_world(options);
    const bool last = group->rank() == group->world_size() - 1 && group->rank() > 0;
    if (std::strcmp(mode, "hang") == 0) {
      if (last) std::this_thread::sleep_for(std::chrono::seconds(8));
      group->barrier();
    } else if (std::strcmp(mode, "die") == 0) {
      if (last) _exit(3);
      tg::Tensor t = tg::ones({4});
      group->all_reduce(t);
    } else if (std::strcmp(mode, "bench") == 0) {
      const double n = group->world_size();
      for (const int64_t count : {int64_t{535818}, int64_t{390858}, int64_t{25000000}}) {
        tg::Tensor t = tg::ones({count});
        std::vector<double> ms;
        for (int run = 0; run < 23; ++run) {
          group->barrier();
          const auto start = std::chrono::steady_clock::now();
          group->all_reduce(t);
          const std::chrono::duration<double, std::milli> took =
              std::chrono::steady_clock::now() - start;
          if (run >= 3) ms.push_back(took.count());
        }
        std::sort(ms.begin(), ms.end());
        const double median = ms[ms.size() / 2], bytes = 4.0 * static_cast<double>(count);
        if (group->rank() == 0) {
          std::printf(
              "all_reduce %10lld floats (%7.2f MB) on %d ranks: %8.3f ms, algbw %6.2f GB/s, "
              "busbw %6.2f GB/s\n",
              static_cast<long long>(count), bytes / 1e6, group->world_size(), median,
              bytes / median / 1e6, bytes / median / 1e6 * 2 * (n - 1) / n);
        }
      }
    } else if (std::strcmp(mode, "overlap") == 0) {
      const double bucket_mb = argc > 2 ? std::atof(argv[2]) : 25.0;
      const std::string which = argc > 3 ? argv[3] : "both";
      tg::manual_seed(1);
      if (which != "mlp")
        measure_overlap(group, "MNIST CNN, batch 64", tg::examples::mnist_cnn(), {64, 1, 28, 28},
                        bucket_mb);
      if (which == "cnn") return tg::distributed::finish(0);
      using namespace tg::layers;
      auto big =
          sequential({make<Linear>(784, 8192), make<ReLU>(), make<Linear>(8192, 8192), make<ReLU>(),
                      make<Linear>(8192, 4096), make<ReLU>(), make<Linear>(4096, 10)});
      measure_overlap(group, "MLP 100M, batch 16", big, {16, 784}, bucket_mb);
    } else {
      std::fprintf(stderr, "usage: tg_distributed_probe hang|die|bench|overlap [BUCKET_MB]\n");
      return 2;
    }
    std::printf("probe: rank %d finished\n", group->rank());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tg_distributed_probe: %s\n", e.what());
    code = 1;
  }
  return tg::distributed::finish(code);
}
