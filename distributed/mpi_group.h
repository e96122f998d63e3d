// The MPI process group (internal: distributed/process_group.h is the interface). Also the
// host side of the NCCL group, which bootstraps and checks over it.
#pragma once

#include <memory>

#include "process_group.h"

namespace tg::distributed::detail {

// The host side of the NCCL group (its unique id's broadcast, checks, barriers): the MPI
// world, or, in a build without MPI, a world of this one process.
std::shared_ptr<ProcessGroup> host_group(const GroupOptions& options);

}  // namespace tg::distributed::detail
