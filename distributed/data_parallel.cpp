// DataParallel (distributed/data_parallel.h).
#include "data_parallel.h"

#include <chrono>
#include <cstring>
#include <sstream>

#include "../core/autograd.h"
#include "../core/factory.h"
#include "../foundation/error.h"

namespace tg::distributed {

namespace {

// FNV-1a over the layout's numbers: equal layouts give equal hashes.
int64_t fingerprint(const std::vector<int64_t>& layout) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t v : layout) {
    for (int byte = 0; byte < 8; ++byte) {
      h ^= (static_cast<uint64_t>(v) >> (8 * byte)) & 0xffu;
      h *= 1099511628211ull;
    }
  }
  return static_cast<int64_t>(h >> 1);
}

}  // namespace

DataParallel::DataParallel(std::shared_ptr<ProcessGroup> group, optim::Optimizer& optimizer,
                           const NamedTensors& buffers, const DataParallelOptions& options)
    : group_(std::move(group)), optimizer_(optimizer), buffers_(buffers), options_(options) {
  TG_CHECK(group_ != nullptr, "DataParallel: no process group");
  TG_CHECK(options.bucket_bytes > 0 && options.first_bucket_bytes > 0,
           "DataParallel: bucket sizes must be positive, got bucket_bytes ", options.bucket_bytes,
           " and first_bucket_bytes ", options.first_bucket_bytes);
  check_layouts_agree();
  {
    NoGradGuard no_grad;
    for (const optim::FlatGroup& g : optimizer_.flat_groups()) group_->broadcast(g.params, 0);
    for (const auto& [name, t] : buffers_) {
      if (t.numel() > 0) group_->broadcast(t, 0);
    }
  }
  cut_buckets();
}

DataParallel::~DataParallel() {
  for (HookHandle& hook : hooks_) hook.remove();
}

// Note [gradient buckets]: whole members, from the end of each flat buffer (its last
// parameters, whose gradients come first) to its start; buffers in reverse order too.
// Empty members are in no count: no gradient may ever reach them.
void DataParallel::cut_buckets() {
  const std::vector<optim::FlatGroup>& flat = optimizer_.flat_groups();
  for (size_t gi = flat.size(); gi-- > 0;) {
    const optim::FlatGroup& g = flat[gi];
    const char* base = static_cast<const char*>(g.grads.raw_data_ptr());
    const int64_t size = static_cast<int64_t>(g.grads.element_size());
    int64_t end = g.grads.numel(), begin = end;  // the open bucket: [begin, end)
    int members = 0;
    auto close = [&](int64_t at) {
      buckets_.push_back({gi, at, end, members, 0});
      end = begin = at;
      members = 0;
    };
    for (size_t m = g.members.size(); m-- > 0;) {
      if (g.members[m].numel() == 0) continue;
      const int64_t offset =
          (static_cast<const char*>(g.grad_slices[m].raw_data_ptr()) - base) / size;
      const int64_t cap = buckets_.empty() ? options_.first_bucket_bytes : options_.bucket_bytes;
      if (members > 0 && (end - offset) * size > cap) close(begin);
      begin = offset;
      ++members;
      const size_t bucket = buckets_.size();
      hooks_.push_back(g.members[m].register_post_accumulate_grad_hook(
          [this, bucket](const Tensor&) { on_gradient_final(bucket); }));
    }
    if (members > 0 || end > 0) close(0);
  }
}

void DataParallel::reset(ReduceOp op) {
  op_ = op;
  next_launch_ = 0;
  stats_ = ReduceStats{};
  for (Bucket& b : buckets_) b.pending = b.members;
}

void DataParallel::prepare_for_backward(ReduceOp op) {
  TG_CHECK(!armed_,
           "DataParallel::prepare_for_backward: called twice without "
           "reduce_gradients in between");
  reset(op);
  armed_ = options_.overlap;
}

// A parameter's gradient is final: its bucket counts down, and every bucket ready in
// order starts. Runs inside backward, on the thread that called it.
void DataParallel::on_gradient_final(size_t bucket) {
  if (!armed_) return;
  Bucket& b = buckets_[bucket];
  TG_CHECK(b.pending > 0 && bucket >= next_launch_, "DataParallel: a gradient in bucket ", bucket,
           " was accumulated again after its bucket started reducing: only one backward may "
           "follow prepare_for_backward() (call it before the last backward of a step)");
  if (--b.pending == 0) launch_ready();
}

void DataParallel::launch_ready() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    ++stats_.started_in_backward;
    launch(next_launch_++);
  }
}

Tensor DataParallel::bucket_grads(size_t bucket) const {
  const Bucket& b = buckets_[bucket];
  return optimizer_.flat_groups()[b.group].grads.slice(0, b.begin, b.end);
}

void DataParallel::launch(size_t bucket) {
  ++stats_.buckets;
  group_->start_all_reduce(bucket_grads(bucket), op_);
}

void DataParallel::reduce_gradients(ReduceOp op) {
  const auto start = std::chrono::steady_clock::now();
  if (armed_) {
    TG_CHECK(op == op_,
             "DataParallel::reduce_gradients: prepare_for_backward was given "
             "another reduction");
  } else {
    reset(op);
  }
  armed_ = false;
  while (next_launch_ < buckets_.size()) launch(next_launch_++);  // those no backward reached
  group_->wait_started();
  stats_.wait_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<Tensor> DataParallel::buckets() const {
  std::vector<Tensor> out;
  for (size_t b = 0; b < buckets_.size(); ++b) out.push_back(bucket_grads(b));
  return out;
}

// Every rank's (parameter count, tensor count, layout hash), gathered: a rank that built
// another model is named, with what it has, on every rank (so every rank stops).
void DataParallel::check_layouts_agree() {
  std::vector<int64_t> layout;
  int64_t parameters = 0, tensors = 0;
  for (const optim::FlatGroup& g : optimizer_.flat_groups()) {
    layout.push_back(static_cast<int64_t>(g.dtype));
    for (const Tensor& p : g.members) {
      layout.push_back(p.dim());
      for (int64_t s : p.shape()) layout.push_back(s);
      parameters += p.numel();
      ++tensors;
    }
  }
  for (const auto& [name, t] : buffers_) {
    layout.push_back(t.dim());
    for (int64_t s : t.shape()) layout.push_back(s);
    layout.push_back(static_cast<int64_t>(t.dtype()));
  }
  const std::vector<int64_t> all = group_->all_gather(
      {parameters, tensors, static_cast<int64_t>(buffers_.size()), fingerprint(layout)});
  std::ostringstream differ;
  bool same = true;
  for (int r = 0; r < group_->world_size(); ++r) {
    const int64_t* mine = all.data() + 4 * r;
    differ << (r ? "; " : "") << "rank " << r << ": " << mine[0] << " parameters in " << mine[1]
           << " tensors, " << mine[2] << " buffers";
    for (int k = 0; k < 4; ++k) same = same && mine[k] == all[k];
  }
  TG_CHECK(same, "DataParallel: the ranks built different models (", differ.str(),
           "); every rank must build the same parameters and buffers");
}

void DataParallel::average_buffers() {
  NoGradGuard no_grad;
  for (const auto& [name, t] : buffers_) {
    if (t.numel() == 0) continue;
    if (is_floating(t.dtype())) {
      group_->all_reduce(t, ReduceOp::Mean);
    } else {
      group_->broadcast(t, 0);  // counters (num_batches_tracked): rank 0's
    }
  }
}

bool DataParallel::parameters_agree() {
  NoGradGuard no_grad;
  int64_t agree = 1;
  for (const optim::FlatGroup& g : optimizer_.flat_groups()) {
    Tensor reference = g.params.clone();
    group_->broadcast(reference, 0);
    const Tensor a = reference.to(Device::cpu()), b = g.params.to(Device::cpu()).contiguous();
    const size_t bytes = static_cast<size_t>(a.numel()) * a.element_size();
    agree = agree && std::memcmp(a.raw_data_ptr(), b.raw_data_ptr(), bytes) == 0;
  }
  const std::vector<int64_t> votes = group_->all_gather({agree});
  for (int64_t v : votes) agree = agree && v;
  return agree != 0;
}

}  // namespace tg::distributed
