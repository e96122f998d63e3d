// The NCCL process group (distributed/process_group.h), compiled when CMake finds NCCL (in
// the CUDA toolkit, under TG_NCCL_ROOT, or in PyTorch's nvidia-nccl wheel). Rank 0 makes
// the unique id and broadcasts it over MPI (in a build without MPI the group is a world of
// one); each rank then joins the communicator on its GPU. Collectives are queued on the
// device context's stream, like every op, so a training step waits for nothing; NCCL's ring
// gives every rank the same bits (Note [bitwise-equal all-reduce]). DataParallel's buckets
// (start_all_reduce) run on a stream of the group's own, forked from the device's stream
// after each bucket's gradients and joined back before the step, so that backward's
// kernels go on beside them; NCCL's order of additions may depend on a message's size, so
// on 3 or more GPUs a bucket size is not promised the bits of another (2: a + b = b + a).
//
// Note [NCCL time-outs]: a peer that dies or hangs would leave NCCL's kernels waiting
// forever, and with them every later wait for the stream. So the communicator is made
// non-blocking and its creation polled against the group's time-out, and a watchdog thread
// follows every collective by an event: when NCCL reports an asynchronous error
// (ncclCommGetAsyncError: a peer's connection broke) or a collective is not done within
// the time-out, it aborts the communicator (ncclCommAbort ends its kernels, so the stream
// moves on) and the group's next call throws, naming the operation, the rank and why.
// Host-side checks and barriers go over the MPI group, which has its own time-outs.
#include <cuda_runtime.h>
#include <nccl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "../core/context.h"
#include "../core/factory.h"
#include "../foundation/error.h"
#include "mpi_group.h"

namespace tg::distributed {

namespace {

using Clock = std::chrono::steady_clock;

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return ncclFloat32;
    case DType::Float64: return ncclFloat64;
    case DType::Int64: return ncclInt64;
    case DType::UInt8: return ncclUint8;
    case DType::BFloat16: return ncclBfloat16;
    case DType::Float16: return ncclFloat16;
  }
  TG_THROW("distributed: no NCCL type for ", dtype_name(dtype));
}

// (host, GPU) of this process as two numbers every rank can compare: a hash of the host
// name and one of the GPU's UUID (rank % count picks the same GPU for two ranks when a host
// runs more processes than it has GPUs).
std::vector<int64_t> placement(const Device& device) {
  char host[256] = "";
  (void)::gethostname(host, sizeof host - 1);
  cudaDeviceProp prop{};
  TG_CHECK(cudaGetDeviceProperties(&prop, device.index()) == cudaSuccess,
           "distributed: cannot query ", device);
  const std::string uuid(prop.uuid.bytes, sizeof prop.uuid.bytes);
  return {static_cast<int64_t>(std::hash<std::string>()(host)),
          static_cast<int64_t>(std::hash<std::string>()(uuid))};
}

class NcclGroup final : public ProcessGroup {
 public:
  NcclGroup(const Device& device, const GroupOptions& options)
      : host_(detail::host_group(options)), device_(device), timeout_(options.timeout_seconds) {
    TG_CHECK(device.is_cuda(), "distributed: a NCCL group needs a CUDA device, got ", device);
    TG_CHECK(cudaSetDevice(device.index()) == cudaSuccess, "distributed: cannot use ", device);
    check_one_gpu_per_rank();
    ncclUniqueId id;
    std::vector<double> bytes(sizeof id);
    if (host_->rank() == 0) {
      check(ncclGetUniqueId(&id), "ncclGetUniqueId");
      const auto* raw = reinterpret_cast<const unsigned char*>(&id);
      for (size_t i = 0; i < sizeof id; ++i) bytes[i] = raw[i];
    }
    bytes = host_->broadcast_values(bytes, 0);
    auto* raw = reinterpret_cast<unsigned char*>(&id);
    for (size_t i = 0; i < sizeof id; ++i) raw[i] = static_cast<unsigned char>(bytes[i]);
    // Non-blocking: a rank that never joins leaves the others polling, not hanging.
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    check(ncclCommInitRankConfig(&comm_, host_->world_size(), id, host_->rank(), &config),
          "ncclCommInitRankConfig");
    wait_until_ready("joining the communicator");
    watchdog_ = std::thread([this] { watch(); });
  }
  ~NcclGroup() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
    for (const Pending& p : pending_) cudaEventDestroy(p.event);
    if (side_ != nullptr) {
      cudaStreamSynchronize(side_);
      cudaEventDestroy(fork_);
      cudaEventDestroy(join_);
      cudaStreamDestroy(side_);
    }
    if (comm_ != nullptr) (void)(aborted_ ? ncclSuccess : ncclCommDestroy(comm_));
  }

  int rank() const override { return host_->rank(); }
  int world_size() const override { return host_->world_size(); }
  std::string backend() const override { return "nccl"; }

  void all_reduce(const Tensor& t, ReduceOp op) override {
    wait_started();  // one stream at a time on the communicator, in the order called
    enqueue_all_reduce(t, op, stream());
  }

  // Fork: the side stream waits for what the device's stream has queued (the bucket's
  // gradients), then reduces; join: the device's stream waits for the side stream.
  void start_all_reduce(const Tensor& t, ReduceOp op) override {
    cudaStream_t side = side_stream();
    TG_CHECK(cudaEventRecord(fork_, stream()) == cudaSuccess &&
                 cudaStreamWaitEvent(side, fork_, 0) == cudaSuccess,
             "distributed: cannot order the bucket's all_reduce after its gradients on ", device_);
    enqueue_all_reduce(t, op, side);
    started_ = true;
  }

  void wait_started() override {
    if (!started_) return;
    started_ = false;
    TG_CHECK(cudaEventRecord(join_, side_stream()) == cudaSuccess &&
                 cudaStreamWaitEvent(stream(), join_, 0) == cudaSuccess,
             "distributed: cannot join the buckets' all_reduce on ", device_);
  }

  void broadcast(const Tensor& t, int root) override {
    wait_started();
    check_tensor("broadcast", t);
    TG_CHECK(root >= 0 && root < world_size(), "distributed: broadcast from rank ", root,
             " in a world of ", world_size());
    check(ncclBroadcast(t.raw_data_ptr(), t.raw_data_ptr(), static_cast<size_t>(t.numel()),
                        nccl_type(t.dtype()), root, comm_, stream()),
          "broadcast");
    follow("broadcast", stream());
    t.bump_version();
  }

  void barrier() override {
    wait_started();
    throw_if_failed("barrier");
    context(device_).synchronize();
    throw_if_failed("barrier");
    host_->barrier();
  }

  std::vector<int64_t> all_gather(const std::vector<int64_t>& values) override {
    return host_->all_gather(values);
  }
  std::vector<double> broadcast_values(const std::vector<double>& values, int root) override {
    return host_->broadcast_values(values, root);
  }

 private:
  struct Pending {
    cudaEvent_t event;
    const char* op;
    Clock::time_point queued;
  };

  cudaStream_t stream() const { return static_cast<cudaStream_t>(context(device_).stream()); }

  void enqueue_all_reduce(const Tensor& t, ReduceOp op, cudaStream_t on) {
    check_tensor("all_reduce", t);
    TG_CHECK(
        !is_half(t.dtype()), "distributed: all_reduce of a ", t.dtype(),
        " tensor: half tensors are not summed here (Note [half dtypes]; gradients are float32)");
    TG_CHECK(op == ReduceOp::Sum || is_floating(t.dtype()),
             "distributed: all_reduce with Mean needs a floating tensor, got ", t.dtype());
    check(ncclAllReduce(t.raw_data_ptr(), t.raw_data_ptr(), static_cast<size_t>(t.numel()),
                        nccl_type(t.dtype()), op == ReduceOp::Mean ? ncclAvg : ncclSum, comm_, on),
          "all_reduce");
    follow("all_reduce", on);
    t.bump_version();
  }
  // The buckets' stream and its two events, made at the first start_all_reduce.
  cudaStream_t side_stream() {
    if (side_ == nullptr) {
      TG_CHECK(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking) == cudaSuccess &&
                   cudaEventCreateWithFlags(&fork_, cudaEventDisableTiming) == cudaSuccess &&
                   cudaEventCreateWithFlags(&join_, cudaEventDisableTiming) == cudaSuccess,
               "distributed: cannot make the buckets' stream on ", device_);
    }
    return side_;
  }

  void check_tensor(const char* op, const Tensor& t) {
    throw_if_failed(op);
    TG_CHECK(t.defined() && t.device() == device_ && t.is_contiguous(), "distributed: ", op,
             " over NCCL takes a contiguous tensor on ", device_, ", got ",
             t.defined() ? t.str() : std::string("an undefined tensor"));
  }

  // Two ranks on one GPU would deadlock or corrupt inside NCCL: refused on every rank alike
  // (each sees every rank's placement) before the communicator exists.
  void check_one_gpu_per_rank() {
    const std::vector<int64_t> all = host_->all_gather(placement(device_));
    for (int a = 0; a < world_size(); ++a) {
      for (int b = a + 1; b < world_size(); ++b) {
        TG_CHECK(all[2 * a] != all[2 * b] || all[2 * a + 1] != all[2 * b + 1],
                 "distributed: ranks ", a, " and ", b,
                 " were given the same GPU on one host; NCCL needs one GPU per process (start "
                 "at most as many processes per host as it has GPUs; this rank has ",
                 device_, " of ", cuda_device_count(), ")");
      }
    }
  }

  // An error from an NCCL call: the communicator is aborted (so nothing waits on it) and
  // the error names the call and the rank.
  void check(ncclResult_t result, const char* op) {
    if (result == ncclSuccess || result == ncclInProgress) return;
    abort_comm();
    TG_THROW("distributed: NCCL ", op, " failed on rank ", rank(), ": ",
             ncclGetErrorString(result));
  }

  void wait_until_ready(const char* what) {
    const Clock::time_point start = Clock::now();
    ncclResult_t state = ncclInProgress;
    while (true) {
      check(ncclCommGetAsyncError(comm_, &state), what);
      if (state != ncclInProgress) break;
      if (std::chrono::duration<double>(Clock::now() - start).count() > timeout_) {
        abort_comm();
        TG_THROW("distributed: NCCL timed out after ", timeout_, " s ", what, " on rank ", rank(),
                 " of ", world_size(), " (a rank that never started or died?)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    check(state, what);
  }

  // Hands a queued collective to the watchdog (Note [NCCL time-outs]).
  void follow(const char* op, cudaStream_t on) {
    cudaEvent_t event = nullptr;
    TG_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming) == cudaSuccess &&
                 cudaEventRecord(event, on) == cudaSuccess,
             "distributed: cannot follow ", op, " on ", device_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.push_back({event, op, Clock::now()});
    }
    wake_.notify_all();
  }

  void watch() {
    cudaSetDevice(device_.index());
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_ && failure_.empty()) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      while (!pending_.empty() && cudaEventQuery(pending_.front().event) == cudaSuccess) {
        cudaEventDestroy(pending_.front().event);
        pending_.pop_front();
      }
      if (pending_.empty()) continue;
      ncclResult_t state = ncclSuccess;
      ncclCommGetAsyncError(comm_, &state);
      const Pending& oldest = pending_.front();
      const double waited = std::chrono::duration<double>(Clock::now() - oldest.queued).count();
      if (state != ncclSuccess && state != ncclInProgress) {
        failure_ = std::string(oldest.op) + " failed: " + ncclGetErrorString(state);
      } else if (waited > timeout_) {
        failure_ = std::string(oldest.op) + " timed out after " + std::to_string(timeout_) +
                   " s (a peer that died or stopped?)";
      }
      if (!failure_.empty()) abort_comm();
    }
  }

  // From the caller's thread or the watchdog's: the first one aborts.
  void abort_comm() {
    if (comm_ != nullptr && !aborted_.exchange(true)) (void)ncclCommAbort(comm_);
  }

  void throw_if_failed(const char* op) {
    std::lock_guard<std::mutex> lock(mutex_);
    TG_CHECK(failure_.empty(), "distributed: ", op, " on rank ", rank(), " of ", world_size(),
             ": the NCCL group was aborted: ", failure_);
  }

  std::shared_ptr<ProcessGroup> host_;
  Device device_;
  double timeout_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t side_ = nullptr;  // DataParallel's buckets (start_all_reduce)
  cudaEvent_t fork_ = nullptr, join_ = nullptr;
  bool started_ = false;  // a start_all_reduce since the last wait_started
  std::atomic<bool> aborted_{false};
  std::thread watchdog_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::deque<Pending> pending_;  // collectives queued and not seen done, oldest first
  std::string failure_;          // why the group was aborted ("" while it works)
};

}  // namespace

bool nccl_compiled() { return true; }

std::shared_ptr<ProcessGroup> nccl_group(const Device& device, const GroupOptions& options) {
  return std::make_shared<NcclGroup>(device, options);
}

}  // namespace tg::distributed
