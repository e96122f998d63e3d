// set_num_threads / get_num_threads (threads.h) over OpenMP.
#include "threads.h"

#include <limits.h>  // PATH_MAX
#include <omp.h>
#include <stdlib.h>  // setenv (POSIX)
#include <unistd.h>  // execv, readlink

#include <cstdio>
#include <cstdlib>

#include "../foundation/error.h"

namespace tg {

void set_num_threads(int n) {
  TG_CHECK(n >= 1, "set_num_threads: the number of threads must be at least 1, got ", n);
  omp_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

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
