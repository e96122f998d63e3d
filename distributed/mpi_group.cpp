// The MPI process group (distributed/process_group.h), compiled when CMake finds MPI.
//
// Note [bitwise-equal all-reduce]
// MPI_Allreduce and MPI_Reduce may combine the ranks' values in a different order on each
// rank (recursive doubling does) and pick their algorithm by the message's size, so ranks
// could end a rounding apart, and a gradient reduced in buckets could differ from the same
// gradient reduced whole. all_reduce is therefore our own, over point-to-point messages:
// the tensor is cut into one slice per rank; every rank sends slice k to rank k, which adds
// the ranks' values in rank order, ((x0 + x1) + x2) + ..., and sends the sum back to every
// rank. Each element's result depends only on the ranks' values, never on the slicing, the
// tensor's size or the bucket it travels in: a bucketed reduction is bit for bit the whole
// one, and every rank holds the same bits. It moves what a ring moves (each rank sends and
// receives (n-1)/n of the tensor twice) in two rounds instead of 2(n-1) steps.
// (It also keeps away from libnbc's MPI_Ireduce, which crashed Open MPI 4.1.4 here on a
// 100 MB float tensor over TCP.)
//
// Note [collective time-outs]
// A blocking MPI call waits forever for a rank that died or runs other code. Every
// collective here is non-blocking point-to-point messages (MPI_Isend/MPI_Irecv, tagged with
// the operation and a sequence number so that mismatched collectives never pair up),
// polled with MPI_Test until all complete or `timeout_seconds` pass; then it throws naming
// the operation, this rank, and the ranks (and hosts) whose messages never came. The
// requests cannot be cancelled, so the group is marked broken and finish() ends the job
// with MPI_Abort (mpirun then stops every rank) rather than hang in MPI_Finalize. MPI_Init
// itself waits for every rank to start: a watchdog ends the process with a message when it
// has not returned within the time-out, naming the ranks it waits for.
#include "mpi_group.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <future>
#include <sstream>
#include <thread>

#include "../core/task_thread.h"
#include "../foundation/error.h"
#include "mpi_watch.h"

namespace tg::distributed {

namespace {

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return MPI_FLOAT;
    case DType::Float64: return MPI_DOUBLE;
    case DType::Int64: return MPI_INT64_T;
    case DType::UInt8: return MPI_UINT8_T;
    case DType::BFloat16:
    case DType::Float16: return MPI_UINT16_T;  // moved as bits, never summed here
  }
  TG_THROW("distributed: no MPI type for ", dtype_name(dtype));
}

// Note [bitwise-equal all-reduce]: out[j] = ((in[0][j] + in[1][j]) + ...) (/ world).
template <typename T>
void fold(const std::vector<const void*>& in, void* out, int64_t count, bool mean) {
  const T world = static_cast<T>(in.size());
  T* o = static_cast<T*>(out);
  for (int64_t j = 0; j < count; ++j) {
    T acc = static_cast<const T*>(in[0])[j];
    for (size_t k = 1; k < in.size(); ++k)
      acc = static_cast<T>(acc + static_cast<const T*>(in[k])[j]);
    o[j] = mean ? static_cast<T>(acc / world) : acc;
  }
}

enum Op : int { kAllReduce = 1, kBroadcast, kBarrier, kAllGather, kBroadcastValues, kHosts };

class MpiGroup final : public ProcessGroup {
 public:
  explicit MpiGroup(const GroupOptions& options) : timeout_(options.timeout_seconds) {
    TG_CHECK(options.timeout_seconds > 0, "distributed: timeout_seconds must be positive, got ",
             options.timeout_seconds);
    detail::ensure_initialized(timeout_);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &world_);
    gather_hosts();
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string backend() const override { return "mpi"; }

  void all_reduce(const Tensor& t, ReduceOp op) override {
    wait_started();
    check_reduce(t, op);
    reduce_now(t, op);
  }

  // On the group's thread (MPI_THREAD_SERIALIZED: one thread in MPI at a time, which
  // wait_started() before every other collective keeps), in the order started.
  void start_all_reduce(const Tensor& t, ReduceOp op) override {
    if (world_ == 1 || detail::mpi_thread_level() < MPI_THREAD_SERIALIZED) return all_reduce(t, op);
    check_reduce(t, op);
    if (!started_thread_) started_thread_ = std::make_unique<TaskThread>();
    started_.push_back(started_thread_->submit([this, t, op] { reduce_now(t, op); }));
  }

  void wait_started() override {
    std::vector<std::future<void>> started = std::move(started_);
    started_.clear();
    std::exception_ptr first;
    for (std::future<void>& done : started) {
      try {
        done.get();
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    if (first) std::rethrow_exception(first);
  }

 private:
  void check_reduce(const Tensor& t, ReduceOp op) const {
    check_tensor("all_reduce", t);
    TG_CHECK(
        !is_half(t.dtype()), "distributed: all_reduce of a ", t.dtype(),
        " tensor: half tensors are not summed here (Note [half dtypes]; gradients are float32)");
    TG_CHECK(op == ReduceOp::Sum || is_floating(t.dtype()),
             "distributed: all_reduce with Mean needs a floating tensor, got ", t.dtype());
  }

  // Note [bitwise-equal all-reduce].
  void reduce_now(const Tensor& t, ReduceOp op) {
    check_usable("all_reduce");  // a started one after a failure ends at once
    if (t.numel() == 0 || world_ == 1) return;
    const int64_t n = element_count("all_reduce", t);
    const size_t size = t.element_size();
    char* data = static_cast<char*>(t.raw_data_ptr());
    auto begin = [&](int k) { return n * k / world_; };
    const int64_t mine = begin(rank_ + 1) - begin(rank_);
    // Round 1: slice k to rank k; the other ranks' values of my slice into scratch.
    scratch_.resize(static_cast<size_t>(mine * (world_ - 1)) * size);
    std::vector<Message> round;
    std::vector<const void*> in;
    for (int k = 0, slot = 0; k < world_; ++k) {
      if (k == rank_) {
        in.push_back(data + begin(k) * size);
        continue;
      }
      char* into = scratch_.data() + static_cast<size_t>(slot++ * mine) * size;
      in.push_back(into);
      round.push_back({k, false, into, mine});
      round.push_back({k, true, data + begin(k) * size, begin(k + 1) - begin(k)});
    }
    exchange("all_reduce", kAllReduce, t.dtype(), round);
    void* slice = data + begin(rank_) * size;
    const bool mean = op == ReduceOp::Mean;
    switch (t.dtype()) {
      case DType::Float32: fold<float>(in, slice, mine, mean); break;
      case DType::Float64: fold<double>(in, slice, mine, mean); break;
      case DType::Int64: fold<int64_t>(in, slice, mine, false); break;
      case DType::UInt8: fold<uint8_t>(in, slice, mine, false); break;
      case DType::BFloat16:
      case DType::Float16: TG_ASSERT(false, "check_reduce lets no half tensor through");
    }
    // Round 2: my sums to every rank; theirs into place.
    round.clear();
    for (int k = 0; k < world_; ++k) {
      if (k == rank_) continue;
      round.push_back({k, false, data + begin(k) * size, begin(k + 1) - begin(k)});
      round.push_back({k, true, slice, mine});
    }
    exchange("all_reduce", kAllReduce, t.dtype(), round);
    t.bump_version();
  }

 public:
  void broadcast(const Tensor& t, int root) override {
    wait_started();
    check_tensor("broadcast", t);
    check_root("broadcast", root);
    if (world_ == 1 || t.numel() == 0) return;
    exchange("broadcast", kBroadcast, t.dtype(),
             from_root(root, t.raw_data_ptr(), element_count("broadcast", t)));
    t.bump_version();
  }

  void barrier() override {
    wait_started();
    check_usable("barrier");
    std::vector<Message> round;
    for (int k = 0; k < world_; ++k) {
      if (k == rank_) continue;
      round.push_back({k, false, nullptr, 0});
      round.push_back({k, true, nullptr, 0});
    }
    exchange("barrier", kBarrier, DType::UInt8, round);
  }

  std::vector<int64_t> all_gather(const std::vector<int64_t>& values) override {
    wait_started();
    check_usable("all_gather");
    const int64_t count = static_cast<int64_t>(values.size());
    std::vector<int64_t> out(values.size() * static_cast<size_t>(world_));
    std::copy(values.begin(), values.end(), out.begin() + rank_ * count);
    std::vector<Message> round;
    for (int k = 0; k < world_; ++k) {
      if (k == rank_) continue;
      round.push_back({k, false, out.data() + k * count, count});
      round.push_back({k, true, const_cast<int64_t*>(values.data()), count});
    }
    exchange("all_gather", kAllGather, DType::Int64, round);
    return out;
  }

  std::vector<double> broadcast_values(const std::vector<double>& values, int root) override {
    wait_started();
    check_usable("broadcast_values");
    check_root("broadcast_values", root);
    std::vector<double> out = values;
    exchange("broadcast_values", kBroadcastValues, DType::Float64,
             from_root(root, out.data(), static_cast<int64_t>(out.size())));
    return out;
  }

 private:
  struct Message {
    int peer;
    bool send;
    void* data;
    int64_t count;
  };

  std::vector<Message> from_root(int root, void* data, int64_t count) const {
    std::vector<Message> round;
    if (rank_ != root) {
      round.push_back({root, false, data, count});
      return round;
    }
    for (int k = 0; k < world_; ++k) {
      if (k != root) round.push_back({k, true, data, count});
    }
    return round;
  }

  // Every rank's host name, for the errors that name a peer.
  void gather_hosts() {
    char name[MPI_MAX_PROCESSOR_NAME] = "";
    int length = 0;
    MPI_Get_processor_name(name, &length);
    constexpr int64_t kWidth = 64;
    std::vector<char> all(static_cast<size_t>(kWidth * world_), '\0');
    std::memcpy(all.data() + rank_ * kWidth, name,
                static_cast<size_t>(std::min<int64_t>(length, kWidth - 1)));
    std::vector<Message> round;
    for (int k = 0; k < world_; ++k) {
      if (k == rank_) continue;
      round.push_back({k, false, all.data() + k * kWidth, kWidth});
      round.push_back({k, true, all.data() + rank_ * kWidth, kWidth});
    }
    exchange("start-up", kHosts, DType::UInt8, round);
    for (int k = 0; k < world_; ++k) hosts_.emplace_back(all.data() + k * kWidth);
  }

  // Posts the round's messages and polls them to completion (Note [collective time-outs]).
  void exchange(const char* op, Op code, DType dtype, const std::vector<Message>& round) {
    if (round.empty()) return;
    describe_activity(op, round);
    const int tag = static_cast<int>(sequence_++ % 4096) * 8 + code;
    std::vector<MPI_Request> requests(round.size(), MPI_REQUEST_NULL);
    for (size_t i = 0; i < round.size(); ++i) {
      const Message& m = round[i];
      const int count = static_cast<int>(m.count);
      check(m.send ? MPI_Isend(m.data, count, mpi_type(dtype), m.peer, tag, MPI_COMM_WORLD,
                               &requests[i])
                   : MPI_Irecv(m.data, count, mpi_type(dtype), m.peer, tag, MPI_COMM_WORLD,
                               &requests[i]),
            op);
    }
    wait(op, round, requests);
    detail::clear_activity();
  }

  // Note [stopped by the launcher]: "op with rank 1 (host h2)" for the SIGTERM handler.
  void describe_activity(const char* op, const std::vector<Message>& round) {
    const std::string who = "rank " + std::to_string(rank_) + " of " + std::to_string(world_) +
                            " (host " + host(rank_) + ")";
    detail::set_activity(who, std::string(op) + " with " + peers(round, nullptr));
  }

  // Polls until every request is done or the time-out. Open MPI advances messages only
  // inside MPI calls (a large message moves a fragment per call), so the first 0.2 s poll
  // without pause (a 2 MB all-reduce is a few milliseconds of back-and-forth); a longer
  // wait, which only a late rank causes, then polls every millisecond. Off the thread that
  // made the group (its thread for started all-reduces, while backward computes) the first second
  // polls yielding the core between calls: a pause of even 20 us made a 1.6 MB all-reduce
  // ten times slower (3 ms against 0.3).
  void wait(const char* op, const std::vector<Message>& round, std::vector<MPI_Request>& requests) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto deadline = start + std::chrono::duration<double>(timeout_);
    const bool own_thread = std::this_thread::get_id() == owner_;
    const auto busy_until = start + std::chrono::milliseconds(own_thread ? 200 : 1000);
    for (;;) {
      bool all_done = true;
      for (MPI_Request& request : requests) {
        if (request == MPI_REQUEST_NULL) continue;
        int done = 0;
        const int code = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
        if (code != MPI_SUCCESS) {
          detail::mark_mpi_broken();
          check(code, (std::string(op) + " with " + peers(round, &requests)).c_str());
        }
        all_done = all_done && done;
      }
      if (all_done) return;
      const auto now = clock::now();
      if (now > deadline) {
        detail::mark_mpi_broken();
        TG_THROW("distributed: ", op, " timed out after ", timeout_, " s on rank ", rank_, " of ",
                 world_, " (host ", host(rank_), "): no answer from ", peers(round, &requests),
                 " (it died, hangs, runs other code, or its link is down)");
      }
      if (now > busy_until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      } else if (!own_thread) {
        std::this_thread::yield();
      }
    }
  }

  // "rank 1 (host h2), rank 3 (host h4)": the round's peers, or with `pending` those whose
  // messages are not done.
  std::string peers(const std::vector<Message>& round,
                    const std::vector<MPI_Request>* pending) const {
    std::ostringstream out;
    std::vector<bool> named(static_cast<size_t>(world_), false);
    for (size_t i = 0; i < round.size(); ++i) {
      const int peer = round[i].peer;
      if ((pending != nullptr && (*pending)[i] == MPI_REQUEST_NULL) ||
          named[static_cast<size_t>(peer)])
        continue;
      named[static_cast<size_t>(peer)] = true;
      out << (out.tellp() > 0 ? ", " : "") << "rank " << peer << " (host " << host(peer) << ")";
    }
    return out.str();
  }

  std::string host(int rank) const {
    return static_cast<size_t>(rank) < hosts_.size() ? hosts_[static_cast<size_t>(rank)] : "?";
  }

  void check_usable(const char* op) const {
    TG_CHECK(!detail::mpi_broken(), "distributed: ", op, " on rank ", rank_,
             ": the group is broken (an earlier collective timed out)");
  }
  void check_root(const char* op, int root) const {
    TG_CHECK(root >= 0 && root < world_, "distributed: ", op, " from rank ", root,
             " in a world of ", world_);
  }
  void check_tensor(const char* op, const Tensor& t) const {
    check_usable(op);
    TG_CHECK(t.defined() && t.device().is_cpu() && t.is_contiguous(), "distributed: ", op,
             " over MPI takes a contiguous CPU tensor, got ",
             t.defined() ? t.str() : std::string("an undefined tensor"),
             " (CUDA tensors go through a NCCL group)");
  }
  int64_t element_count(const char* op, const Tensor& t) const {
    TG_CHECK(t.numel() <= INT32_MAX, "distributed: ", op, " of ", t.numel(),
             " elements: MPI counts are int (at most 2^31 - 1)");
    return t.numel();
  }
  void check(int code, const char* op) const {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    TG_THROW("distributed: ", op, " failed on rank ", rank_, " of ", world_, ": ",
             std::string(text, static_cast<size_t>(length)));
  }

  double timeout_;
  int rank_ = 0, world_ = 1;
  std::thread::id owner_ = std::this_thread::get_id();
  uint64_t sequence_ = 0;
  std::vector<std::string> hosts_;
  std::vector<char> scratch_;
  std::vector<std::future<void>> started_;      // start_all_reduce's, not yet waited for
  std::unique_ptr<TaskThread> started_thread_;  // last: joined first, while the rest lives
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

}  // namespace tg::distributed
