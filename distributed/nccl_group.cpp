// The NCCL process group (distributed/process_group.h), compiled when CMake finds NCCL (it
// ships with the CUDA toolkit). Rank 0 makes the unique id and broadcasts it over MPI (in a
// build without MPI the group is a world of one); each rank then joins the communicator on
// its GPU. Collectives are queued on
// the device context's stream, like every op, so a training step waits for nothing; NCCL's
// ring gives every rank the same bits (Note [bitwise-equal all-reduce]). It has no time-out
// of its own (NCCL_TIMEOUT-style watchdogs are left to the launcher); host-side checks and
// barriers go over the MPI group, which has one.
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>

#include "tamegrad/core/context.h"
#include "tamegrad/core/error.h"
#include "tamegrad/core/factory.h"
#include "tamegrad/distributed/mpi_group.h"

#define TG_NCCL_CHECK(expr)                                                                     \
  do {                                                                                          \
    const ncclResult_t tg_nccl_ = (expr);                                                       \
    if (tg_nccl_ != ncclSuccess)                                                                \
      TG_THROW("distributed: ", #expr, " returned ", ncclGetErrorString(tg_nccl_), " on rank ", \
               rank());                                                                         \
  } while (0)

namespace tg::distributed {

namespace {

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return ncclFloat32;
    case DType::Float64: return ncclFloat64;
    case DType::Int64: return ncclInt64;
    case DType::UInt8: return ncclUint8;
  }
  TG_THROW("distributed: no NCCL type for ", dtype_name(dtype));
}

class NcclGroup final : public ProcessGroup {
 public:
  NcclGroup(const Device& device, const GroupOptions& options)
      : host_(detail::host_group(options)), device_(device) {
    TG_CHECK(device.is_cuda(), "distributed: a NCCL group needs a CUDA device, got ", device);
    ncclUniqueId id;
    std::vector<double> bytes(sizeof id);
    if (host_->rank() == 0) {
      TG_NCCL_CHECK(ncclGetUniqueId(&id));
      const auto* raw = reinterpret_cast<const unsigned char*>(&id);
      for (size_t i = 0; i < sizeof id; ++i) bytes[i] = raw[i];
    }
    bytes = host_->broadcast_values(bytes, 0);
    auto* raw = reinterpret_cast<unsigned char*>(&id);
    for (size_t i = 0; i < sizeof id; ++i) raw[i] = static_cast<unsigned char>(bytes[i]);
    TG_CHECK(cudaSetDevice(device.index()) == cudaSuccess, "distributed: cannot use ", device);
    TG_NCCL_CHECK(ncclCommInitRank(&comm_, host_->world_size(), id, host_->rank()));
  }
  ~NcclGroup() override { (void)ncclCommDestroy(comm_); }

  int rank() const override { return host_->rank(); }
  int world_size() const override { return host_->world_size(); }
  std::string backend() const override { return "nccl"; }

  void all_reduce(const Tensor& t, ReduceOp op) override {
    check_tensor("all_reduce", t);
    TG_CHECK(op == ReduceOp::Sum || is_floating(t.dtype()),
             "distributed: all_reduce with Mean needs a floating tensor, got ", t.dtype());
    TG_NCCL_CHECK(ncclAllReduce(t.raw_data_ptr(), t.raw_data_ptr(), static_cast<size_t>(t.numel()),
                                nccl_type(t.dtype()), op == ReduceOp::Mean ? ncclAvg : ncclSum,
                                comm_, stream()));
    t.bump_version();
  }

  void broadcast(const Tensor& t, int root) override {
    check_tensor("broadcast", t);
    TG_CHECK(root >= 0 && root < world_size(), "distributed: broadcast from rank ", root,
             " in a world of ", world_size());
    TG_NCCL_CHECK(ncclBroadcast(t.raw_data_ptr(), t.raw_data_ptr(), static_cast<size_t>(t.numel()),
                                nccl_type(t.dtype()), root, comm_, stream()));
    t.bump_version();
  }

  void barrier() override {
    context(device_).synchronize();
    host_->barrier();
  }

  std::vector<int64_t> all_gather(const std::vector<int64_t>& values) override {
    return host_->all_gather(values);
  }
  std::vector<double> broadcast_values(const std::vector<double>& values, int root) override {
    return host_->broadcast_values(values, root);
  }

 private:
  cudaStream_t stream() const { return static_cast<cudaStream_t>(context(device_).stream()); }
  void check_tensor(const char* op, const Tensor& t) const {
    TG_CHECK(t.defined() && t.device() == device_ && t.is_contiguous(), "distributed: ", op,
             " over NCCL takes a contiguous tensor on ", device_, ", got ",
             t.defined() ? t.str() : std::string("an undefined tensor"));
  }

  std::shared_ptr<ProcessGroup> host_;
  Device device_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

bool nccl_compiled() { return true; }

std::shared_ptr<ProcessGroup> nccl_group(const Device& device, const GroupOptions& options) {
  return std::make_shared<NcclGroup>(device, options);
}

}  // namespace tg::distributed
