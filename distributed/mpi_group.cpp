// The MPI process group (distributed/process_group.h), compiled when CMake finds MPI.
//
// Note [bitwise-equal all-reduce]
// MPI_Allreduce may combine the ranks' values in a different order on each rank (recursive
// doubling does), and then ranks end with parameters a rounding apart that drift further
// every step. all_reduce is therefore a reduce to rank 0 followed by a broadcast of its
// result: every rank gets rank 0's bits, and for a given world size the reduction order is
// MPI's fixed tree, so reruns repeat. It costs a second latency, which the MNIST buffers
// (2 MB) do not notice; NCCL's ring does the same without it (each chunk is reduced on one
// rank and passed on).
//
// Note [collective time-outs]
// A blocking MPI collective waits forever for a rank that died or runs other code. Every
// collective here is the non-blocking form (MPI_Ireduce, MPI_Ibcast, MPI_Ibarrier,
// MPI_Iallgather) followed by polling MPI_Test until it completes or `timeout_seconds`
// pass; then it throws naming the operation, this rank and the world size. The request
// cannot be cancelled, so the group is marked broken and finish() ends the job with
// MPI_Abort (mpirun then stops every rank) rather than hang in MPI_Finalize. When a rank
// dies outright, mpirun itself usually ends the job first and names it.
#include "mpi_group.h"

#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "../core/autograd.h"
#include "../core/ops.h"
#include "../foundation/error.h"

namespace tg::distributed {

namespace {

struct MpiState {
  std::mutex mutex;
  bool initialized = false, finished = false, broken = false;
};
MpiState& state() {
  static MpiState s;
  return s;
}

void finish_at_exit() { finish(0); }

void ensure_initialized() {
  MpiState& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.initialized) return;
  TG_CHECK(!s.finished, "distributed: MPI was already finalised in this process");
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    TG_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) == MPI_SUCCESS,
             "distributed: MPI_Init_thread failed");
  }
  // Errors come back as codes (checked below) instead of aborting inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  s.initialized = true;
  std::atexit(finish_at_exit);
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return MPI_FLOAT;
    case DType::Float64: return MPI_DOUBLE;
    case DType::Int64: return MPI_INT64_T;
    case DType::UInt8: return MPI_UINT8_T;
  }
  TG_THROW("distributed: no MPI type for ", dtype_name(dtype));
}

class MpiGroup final : public ProcessGroup {
 public:
  explicit MpiGroup(const GroupOptions& options) : timeout_(options.timeout_seconds) {
    TG_CHECK(options.timeout_seconds > 0, "distributed: timeout_seconds must be positive, got ",
             options.timeout_seconds);
    ensure_initialized();
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &world_);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string backend() const override { return "mpi"; }

  void all_reduce(const Tensor& t, ReduceOp op) override {
    check_tensor("all_reduce", t);
    TG_CHECK(op == ReduceOp::Sum || is_floating(t.dtype()),
             "distributed: all_reduce with Mean needs a floating tensor, got ", t.dtype());
    if (world_ > 1 && t.numel() > 0) {
      // Note [bitwise-equal all-reduce]: reduce to rank 0, then broadcast its bits.
      const int count = element_count("all_reduce", t);
      MPI_Request request;
      void* data = t.raw_data_ptr();
      check(MPI_Ireduce(rank_ == 0 ? MPI_IN_PLACE : data, rank_ == 0 ? data : nullptr, count,
                        mpi_type(t.dtype()), MPI_SUM, 0, MPI_COMM_WORLD, &request),
            "all_reduce (reduce)");
      wait(request, "all_reduce (reduce)");
      check(MPI_Ibcast(data, count, mpi_type(t.dtype()), 0, MPI_COMM_WORLD, &request),
            "all_reduce (broadcast)");
      wait(request, "all_reduce (broadcast)");
    }
    if (op == ReduceOp::Mean && world_ > 1) {
      NoGradGuard no_grad;
      Tensor out = t;
      out.copy_(div(t, static_cast<double>(world_)));
    }
    t.bump_version();
  }

  void broadcast(const Tensor& t, int root) override {
    check_tensor("broadcast", t);
    TG_CHECK(root >= 0 && root < world_, "distributed: broadcast from rank ", root,
             " in a world of ", world_);
    if (world_ == 1 || t.numel() == 0) return;
    MPI_Request request;
    check(MPI_Ibcast(t.raw_data_ptr(), element_count("broadcast", t), mpi_type(t.dtype()), root,
                     MPI_COMM_WORLD, &request),
          "broadcast");
    wait(request, "broadcast");
    t.bump_version();
  }

  void barrier() override {
    check_usable("barrier");
    if (world_ == 1) return;
    MPI_Request request;
    check(MPI_Ibarrier(MPI_COMM_WORLD, &request), "barrier");
    wait(request, "barrier");
  }

  std::vector<int64_t> all_gather(const std::vector<int64_t>& values) override {
    check_usable("all_gather");
    std::vector<int64_t> out(values.size() * static_cast<size_t>(world_));
    if (world_ == 1) return values;
    MPI_Request request;
    check(MPI_Iallgather(values.data(), static_cast<int>(values.size()), MPI_INT64_T, out.data(),
                         static_cast<int>(values.size()), MPI_INT64_T, MPI_COMM_WORLD, &request),
          "all_gather");
    wait(request, "all_gather");
    return out;
  }

  std::vector<double> broadcast_values(const std::vector<double>& values, int root) override {
    check_usable("broadcast_values");
    std::vector<double> out = values;
    if (world_ == 1) return out;
    MPI_Request request;
    check(MPI_Ibcast(out.data(), static_cast<int>(out.size()), MPI_DOUBLE, root, MPI_COMM_WORLD,
                     &request),
          "broadcast_values");
    wait(request, "broadcast_values");
    return out;
  }

 private:
  void check_usable(const char* op) const {
    TG_CHECK(!state().broken, "distributed: ", op, " on rank ", rank_,
             ": the group is broken (an earlier collective timed out)");
  }
  void check_tensor(const char* op, const Tensor& t) const {
    check_usable(op);
    TG_CHECK(t.defined() && t.device().is_cpu() && t.is_contiguous(), "distributed: ", op,
             " over MPI takes a contiguous CPU tensor, got ",
             t.defined() ? t.str() : std::string("an undefined tensor"),
             " (CUDA tensors go through a NCCL group)");
  }
  int element_count(const char* op, const Tensor& t) const {
    TG_CHECK(t.numel() <= INT32_MAX, "distributed: ", op, " of ", t.numel(),
             " elements: MPI counts are int (at most 2^31 - 1)");
    return static_cast<int>(t.numel());
  }
  void check(int code, const char* op) const {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    TG_THROW("distributed: ", op, " failed on rank ", rank_, " of ", world_, ": ",
             std::string(text, static_cast<size_t>(length)));
  }
  // Note [collective time-outs]: polls until done or the time-out. Open MPI advances a
  // non-blocking collective only inside MPI calls, so the first 0.2 s poll without pause
  // (a 2 MB all-reduce is a few milliseconds of back-and-forth); a longer wait, which
  // only a late rank causes, then polls every millisecond.
  void wait(MPI_Request& request, const char* op) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto deadline = start + std::chrono::duration<double>(timeout_);
    const auto busy_until = start + std::chrono::milliseconds(200);
    for (;;) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), op);
      if (done) return;
      const auto now = clock::now();
      if (now > deadline) {
        state().broken = true;
        TG_THROW("distributed: ", op, " timed out after ", timeout_, " s on rank ", rank_, " of ",
                 world_, ": another rank did not join it (it died, hangs, or runs other code)");
      }
      if (now > busy_until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  double timeout_;
  int rank_ = 0, world_ = 1;
};

}  // namespace

bool mpi_compiled() { return true; }

namespace detail {
std::shared_ptr<ProcessGroup> host_group(const GroupOptions& options) {
  return std::make_shared<MpiGroup>(options);
}
}  // namespace detail

std::shared_ptr<ProcessGroup> mpi_world(const GroupOptions& options) {
  return std::make_shared<MpiGroup>(options);
}

int finish(int exit_code) {
  MpiState& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.initialized || s.finished) return exit_code;
  s.finished = true;
  int world = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  if (s.broken || (exit_code != 0 && world > 1)) {
    MPI_Abort(MPI_COMM_WORLD, exit_code != 0 ? exit_code : 1);
  }
  MPI_Finalize();
  return exit_code;
}

}  // namespace tg::distributed
