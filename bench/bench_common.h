// What the benchmarks share: a wall-clock timer that takes the best of several runs
// (after synchronising the device), and flag parsing for --json and --quick.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "core/context.h"

namespace tg::bench {

struct Flags {
  bool json = false;   // one JSON object per row instead of a table
  bool quick = false;  // fewer repetitions and smaller sizes (smoke runs)
};

inline Flags parse_flags(int argc, char** argv, const char* usage) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      flags.json = true;
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      flags.quick = true;
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
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = s < best ? s : best;
  }
  return best;
}

}  // namespace tg::bench
