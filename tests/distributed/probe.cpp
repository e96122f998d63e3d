// tg_distributed_probe: set-ups that must end a distributed job with a clear error rather
// than a hang (run under mpirun by tests/scripts/distributed_programs_test.sh):
//   hang   the last rank sleeps past rank 0's time-out (1 s) before a barrier: rank 0's
//          barrier throws naming itself and the operation, and the job is aborted;
//   die    the last rank exits (code 3) before an all-reduce: mpirun ends the job, naming it.
// and one measurement:
//   bench  all_reduce of the MNIST models' gradient buffers (MLP 535,818 and CNN 390,858
//          float32) and of 25M floats (a 100 MB bucket): median of 20 after 3 warm-ups,
//          with the algorithm and bus bandwidth (bytes / time, × 2(n-1)/n).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "../../core/factory.h"
#include "../../distributed/process_group.h"

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  int code = 0;
  try {
    tg::distributed::GroupOptions options;
    options.timeout_seconds = std::strcmp(mode, "hang") == 0 ? 1.0 : 20.0;
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
    } else {
      std::fprintf(stderr, "usage: tg_distributed_probe hang|die|bench\n");
      return 2;
    }
    std::printf("probe: rank %d finished\n", group->rank());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tg_distributed_probe: %s\n", e.what());
    code = 1;
  }
  return tg::distributed::finish(code);
}
