// What the benchmarks share: timers (the best of several wall-clock runs; the median of
// many runs, timed with CUDA events on a GPU) and flag parsing for --json, --quick and
// --cuda-only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../foundation/config.h"

#if TG_WITH_CUDA
#include <cuda_runtime.h>
#endif

#include "../core/context.h"

namespace tg::bench {

struct Flags {
  bool json = false;       // one JSON object per row instead of a table
  bool quick = false;      // fewer repetitions and smaller sizes (smoke runs)
  bool cuda_only = false;  // leave out the CPU rows
};

inline Flags parse_flags(int argc, char** argv, const char* usage) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      flags.json = true;
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      flags.quick = true;
    } else if (std::strcmp(argv[i], "--cuda-only") == 0) {
      flags.cuda_only = true;
    } else {
      std::fprintf(stderr, "unknown argument '%s'\nusage: %s\n", argv[i], usage);
      std::exit(2);
    }
  }
  return flags;
}

// Best wall time of `repeats` runs of f (seconds), each run waited for on `device`.
inline double best_seconds(const Device& device, int repeats, const std::function<void()>& f) {
  f();  // warm-up: allocations, library handles, caches
  context(device).synchronize();
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    context(device).synchronize();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = s < best ? s : best;
  }
  return best;
}

}  // namespace tg::bench

namespace tg::bench {

// Median time of `runs` runs of f (seconds), after a few warm-up runs. On a GPU each run is
// bracketed by CUDA events on the device's stream and waited for before the next, as
// bench/torch_peer.py times PyTorch; on the CPU a wall clock brackets each run.
inline double median_seconds(const Device& device, int runs, const std::function<void()>& f) {
  for (int i = 0; i < 3; ++i) f();
  context(device).synchronize();
  std::vector<double> times;
  times.reserve(runs);
#if TG_WITH_CUDA
  if (device.is_cuda()) {
    auto stream = static_cast<cudaStream_t>(context(device).stream());
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    for (int i = 0; i < runs; ++i) {
      cudaEventRecord(start, stream);
      f();
      cudaEventRecord(stop, stream);
      cudaEventSynchronize(stop);
      float ms = 0;
      cudaEventElapsedTime(&ms, start, stop);
      times.push_back(ms * 1e-3);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }
#endif
  if (times.empty()) {
    for (int i = 0; i < runs; ++i) {
      const auto start = std::chrono::steady_clock::now();
      f();
      context(device).synchronize();
      times.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  std::nth_element(times.begin(), times.begin() + runs / 2, times.end());
  return times[runs / 2];
}

// Median host time of `runs` calls of f (seconds), each started on an idle device and not
// waited for: what issuing the work costs the host. Next to median_seconds of the same f,
// equal times mean the device waits for the host (the work is host-bound).
inline double median_issue_seconds(const Device& device, int runs, const std::function<void()>& f) {
  for (int i = 0; i < 3; ++i) f();
  std::vector<double> times;
  times.reserve(runs);
  for (int i = 0; i < runs; ++i) {
    context(device).synchronize();
    const auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  context(device).synchronize();
  std::nth_element(times.begin(), times.begin() + runs / 2, times.end());
  return times[runs / 2];
}

}  // namespace tg::bench
