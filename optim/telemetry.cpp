// GradientTelemetry (optim/telemetry.h).
#include "telemetry.h"

#include <cmath>

#include "../core/autograd.h"
#include "../core/factory.h"

namespace tg::optim {

namespace {

double ratio(double update, double weight) {
  if (weight == 0) return update == 0 ? 0.0 : HUGE_VAL;
  return update / weight;
}

}  // namespace

GradientTelemetry::GradientTelemetry(const Optimizer& optimizer, const NamedTensors& names)
    : optimizer_(&optimizer) {
  const std::vector<FlatGroup>& flat = optimizer.flat_groups();
  TG_ASSERT(!flat.empty(), "an optimizer has at least one flat group");
  const Device device = flat.front().device;
  auto name_of = [&](const Tensor& p, size_t position) {
    for (const auto& [name, t] : names) {
      if (t.defined() && t.is_alias_of(p)) return name;
    }
    return "param" + std::to_string(position);
  };
  size_t count = 0;
  for (const FlatGroup& g : flat) count += g.members.size();
  names_.resize(count);
  dims_.resize(count);
  numels_.resize(count);
  int64_t pieces = 0;
  NoGradGuard no_grad;
  for (const FlatGroup& g : flat) {
    TG_CHECK(g.device == device, "GradientTelemetry: parameters on ", device, " and ", g.device,
             "; it measures parameters on one device");
    std::vector<int64_t> sizes;
    for (size_t m = 0; m < g.members.size(); ++m) {
      const Tensor& p = g.members[m];
      const size_t position = g.positions[m];
      sizes.push_back(p.numel());
      names_[position] = name_of(p, position);
      dims_[position] = p.dim();
      numels_[position] = p.numel();
    }
    Group group{g.params,   g.grads, g.params.clone(), {}, param_stats_layout(sizes, device),
                g.positions};
    pieces += group.layout.piece_count();
    groups_.push_back(std::move(group));
  }
  sums_ = zeros({pieces + 1, kParamStatColumns}, TensorOptions(DType::Float64).device(device));
  int64_t at = 0;
  for (Group& group : groups_) {
    group.sums = sums_.slice(0, at, at + group.layout.piece_count());
    at += group.layout.piece_count();
  }
  scaler_row_ = sums_.select(0, pieces);
  readback_ = std::make_unique<Readback>(sums_);
}

void GradientTelemetry::record(int64_t step) {
  for (Group& g : groups_) param_stats_(g.params, g.grads, g.previous, g.layout, g.sums);
  const LossScaleState* scaler = optimizer_->loss_scale_state();
  if (scaler != nullptr) {
    NoGradGuard no_grad;
    scaler_row_.slice(0, 0, 1).copy_(scaler->step_scale.reshape({1}));
    scaler_row_.slice(0, 1, 2).copy_(scaler->step_skipped.reshape({1}));
    scaler_row_.slice(0, 2, 3).copy_(scaler->skipped_steps.reshape({1}));
  }
  readback_->start();
  pending_.push_back({step, scaler != nullptr, scaler != nullptr && !scaler->last_unscaled});
}

std::optional<GradientStats> GradientTelemetry::poll() { return take(readback_->poll()); }

std::optional<GradientStats> GradientTelemetry::wait() { return take(readback_->wait()); }

// The oldest record's statistics from its sums (when there are some), labelled with its step.
std::optional<GradientStats> GradientTelemetry::take(std::optional<std::vector<double>> sums) {
  if (!sums) return std::nullopt;
  const Pending record = pending_.front();
  pending_.pop_front();
  return convert(*sums, record);
}

// Adds each tensor's piece rows in order (Note [stat pieces], kernels/param_stats.h), then
// the tensors' sums in parameter order for the totals.
GradientStats GradientTelemetry::convert(const std::vector<double>& sums,
                                         const Pending& record) const {
  struct Sums {
    double grad = 0, weight = 0, update = 0, zeros = 0;
  };
  std::vector<Sums> per_tensor(names_.size());
  int64_t row0 = 0;
  for (const Group& g : groups_) {
    for (size_t t = 0; t < g.positions.size(); ++t) {
      Sums& s = per_tensor[g.positions[t]];
      for (int64_t p = g.layout.first[t]; p < g.layout.first[t + 1]; ++p) {
        const double* row = sums.data() + (row0 + p) * kParamStatColumns;
        s.grad += row[kGradSquares];
        s.weight += row[kWeightSquares];
        s.update += row[kUpdateSquares];
        s.zeros += row[kZeroGrads];
      }
    }
    row0 += g.layout.piece_count();
  }
  GradientStats out;
  out.step = record.step;
  // The scaler's row (Note [loss scaling]): gradients still carrying the scale are divided.
  const double* scaler = sums.data() + row0 * kParamStatColumns;
  double divisor = 1.0;
  if (record.scaler) {
    out.loss_scale = scaler[0];
    out.skipped = scaler[1] != 0;
    out.skipped_steps = static_cast<int64_t>(scaler[2]);
    if (record.scaled) divisor = scaler[0];
  }
  Sums total;
  for (size_t i = 0; i < names_.size(); ++i) {
    const Sums& s = per_tensor[i];
    TensorStats t;
    t.name = names_[i];
    t.dim = dims_[i];
    t.numel = numels_[i];
    t.zero_fraction = t.numel > 0 ? s.zeros / static_cast<double>(t.numel) : 0.0;
    t.grad_norm = std::sqrt(s.grad) / divisor;
    t.weight_norm = std::sqrt(s.weight);
    t.update_norm = std::sqrt(s.update);
    t.update_ratio = ratio(t.update_norm, t.weight_norm);
    out.tensors.push_back(t);
    total.grad += s.grad;
    total.weight += s.weight;
    total.update += s.update;
  }
  out.grad_norm = std::sqrt(total.grad) / divisor;
  out.weight_norm = std::sqrt(total.weight);
  out.update_norm = std::sqrt(total.update);
  out.update_ratio = ratio(out.update_norm, out.weight_norm);
  return out;
}

}  // namespace tg::optim
