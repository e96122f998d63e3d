// The MPI world the distributed tests share (made once: every rank makes it in the same
// order), and the skip for a build without MPI.
#pragma once

#include <memory>

#include "../../distributed/process_group.h"

namespace tg::testing {

#define TG_REQUIRE_MPI()                                                               \
  do {                                                                                 \
    if (!::tg::distributed::mpi_compiled()) GTEST_SKIP() << "MPI was not compiled in"; \
  } while (0)

inline std::shared_ptr<distributed::ProcessGroup> world() {
  static std::shared_ptr<distributed::ProcessGroup> group = distributed::mpi_world();
  return group;
}

}  // namespace tg::testing
