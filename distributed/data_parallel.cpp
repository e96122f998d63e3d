// DataParallel (distributed/data_parallel.h).
#include "data_parallel.h"

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
                           const NamedTensors& buffers)
    : group_(std::move(group)), optimizer_(optimizer), buffers_(buffers) {
  TG_CHECK(group_ != nullptr, "DataParallel: no process group");
  check_layouts_agree();
  NoGradGuard no_grad;
  for (const optim::FlatGroup& g : optimizer_.flat_groups()) group_->broadcast(g.params, 0);
  for (const auto& [name, t] : buffers_) {
    if (t.numel() > 0) group_->broadcast(t, 0);
  }
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

void DataParallel::reduce_gradients(ReduceOp op) {
  for (const optim::FlatGroup& g : optimizer_.flat_groups()) group_->all_reduce(g.grads, op);
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
