// set_num_threads / get_num_threads (threads.h) over OpenMP.
#include "threads.h"

#include <omp.h>

#include "../foundation/error.h"

namespace tg {

void set_num_threads(int n) {
  TG_CHECK(n >= 1, "set_num_threads: the number of threads must be at least 1, got ", n);
  omp_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace tg
