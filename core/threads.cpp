// set_num_threads / get_num_threads (threads.h) over OpenMP.
#include "threads.h"

#include <limits.h>  // PATH_MAX
#include <omp.h>
#include <stdlib.h>  // setenv (POSIX)
#include <unistd.h>  // execv, readlink, sysconf

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "../foundation/error.h"

namespace tg {

namespace {

std::atomic<bool> count_chosen{false};  // set_num_threads was called: no adapting
std::mutex adapting;
bool adapt_started = false;
int default_count = 1;  // OpenMP's, read at the first adapt_threads_to_load
int proposed = 0;       // the count the last look asked for
std::chrono::steady_clock::time_point last_look;
constexpr std::chrono::milliseconds kLookEvery{20};

}  // namespace

namespace threads_detail {

int threads_for_load(int ceiling, int online, int running, int team) {
  const int busy = std::max(running - team, 0);  // runnable tasks that are not ours
  return std::clamp(online - busy, 1, std::max(ceiling, 1));
}

int running_tasks(const char* loadavg) {
  double a, b, c;
  int running, total;
  if (std::sscanf(loadavg, "%lf %lf %lf %d/%d", &a, &b, &c, &running, &total) != 5) return -1;
  return running;
}

}  // namespace threads_detail

void set_num_threads(int n) {
  TG_CHECK(n >= 1, "set_num_threads: the number of threads must be at least 1, got ", n);
  count_chosen = true;
  omp_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

void adapt_threads_to_load() {
  if (count_chosen) return;
  const std::lock_guard<std::mutex> lock(adapting);
  const auto now = std::chrono::steady_clock::now();
  if (!adapt_started) {
    adapt_started = true;
    // OMP_NUM_THREADS is the user's count too.
    if (std::getenv("OMP_NUM_THREADS") != nullptr) count_chosen = true;
    default_count = omp_get_max_threads();
  } else if (now - last_look < kLookEvery) {
    return;
  }
  last_look = now;
  if (count_chosen || default_count <= 1) return;
  char text[128] = {};
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return;
  const size_t got = std::fread(text, 1, sizeof(text) - 1, f);
  std::fclose(f);
  text[got] = '\0';
  const int running = threads_detail::running_tasks(text);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (running < 0 || online < 1) return;
  const int team = omp_get_max_threads();
  const int count =
      threads_detail::threads_for_load(default_count, static_cast<int>(online), running, team);
  // A new count is taken when two looks in a row ask for it: one runnable task of a moment
  // (the data loader's thread making the next batch) does not halve the team for 20 ms.
  if (count != team && count == proposed) omp_set_num_threads(count);
  proposed = count;
}

void use_openmp_spin_policy(char** argv) {
  if (argv == nullptr || argv[0] == nullptr) return;
  if (std::getenv("GOMP_SPINCOUNT") != nullptr || std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("GOMP_SPINCOUNT", "10000", 0) != 0) return;
  // The program's own path, not /proc/self/exe: executing that link would rename the process
  // "exe" in ps, top and perf.
  char path[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (length <= 0) return;
  path[length] = '\0';
  std::fflush(nullptr);  // nothing buffered is written twice
  execv(path, argv);     // only returns when it failed
}

}  // namespace tg
