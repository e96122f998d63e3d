// The process groups of a build without MPI: mpi_world() says it was not compiled in, and
// the NCCL group's host side is a world of this one process.
#include "../foundation/error.h"
#include "mpi_group.h"

namespace tg::distributed {

namespace {

class SingleProcess final : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string backend() const override { return "single"; }
  void all_reduce(const Tensor&, ReduceOp) override {}
  void broadcast(const Tensor&, int root) override {
    TG_CHECK(root == 0, "distributed: broadcast from rank ", root, " in a world of 1");
  }
  void barrier() override {}
  std::vector<int64_t> all_gather(const std::vector<int64_t>& values) override { return values; }
  std::vector<double> broadcast_values(const std::vector<double>& values, int root) override {
    TG_CHECK(root == 0, "distributed: broadcast from rank ", root, " in a world of 1");
    return values;
  }
};

}  // namespace

bool mpi_compiled() { return false; }

namespace detail {
std::shared_ptr<ProcessGroup> host_group(const GroupOptions&) {
  return std::make_shared<SingleProcess>();
}
}  // namespace detail

std::shared_ptr<ProcessGroup> mpi_world(const GroupOptions&) {
  TG_THROW("distributed: MPI support was not compiled in (install libopenmpi-dev and rebuild)");
}

int finish(int exit_code) { return exit_code; }

}  // namespace tg::distributed
