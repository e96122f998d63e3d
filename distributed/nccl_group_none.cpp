// The NCCL group of a build without NCCL or CUDA: it says so.
#include "../foundation/error.h"
#include "process_group.h"

namespace tg::distributed {

bool nccl_compiled() { return false; }

std::shared_ptr<ProcessGroup> nccl_group(const Device& device, const GroupOptions&) {
  TG_THROW("distributed: a NCCL group on ", device,
           ": NCCL support was not compiled in (it needs CUDA and NCCL at build time)");
}

}  // namespace tg::distributed
