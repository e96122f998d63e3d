// Training checkpoints (checkpoint.h): writing, reading back with every check, and the
// ModelCheckpoint callback.
#include "checkpoint.h"

#include <cmath>
#include <cstring>

#include "../core/context.h"
#include "../core/factory.h"
#include "../foundation/version.h"

namespace tg::train {

namespace {

// The optimizer's "state.<i>." prefix for parameter i, renamed to the model's name.
std::vector<std::string> parameter_names(const layers::Module& model,
                                         const optim::Optimizer& optimizer) {
  const NamedTensors params = model.named_parameters();
  std::vector<std::string> names(params.size());
  size_t count = 0;
  for (const optim::FlatGroup& flat : optimizer.flat_groups()) {
    for (size_t m = 0; m < flat.members.size(); ++m) {
      const size_t i = flat.positions[m];
      TG_CHECK(i < params.size() && params[i].second.shape() == flat.members[m].shape() &&
                   params[i].second.raw_data_ptr() == flat.members[m].raw_data_ptr(),
               "training checkpoint: the optimizer's parameter ", i,
               " is not the model's; build the optimizer from model.parameters()");
      names[i] = params[i].first;
      ++count;
    }
  }
  TG_CHECK(count == params.size(), "training checkpoint: the optimizer holds ", count,
           " parameters, the model ", params.size());
  return names;
}

std::vector<Device> devices() {
  std::vector<Device> out{Device::cpu()};
  for (int i = 0; i < cuda_device_count(); ++i) out.push_back(Device::cuda(i));
  return out;
}

Tensor generator_state(const Device& device) {
  Generator& g = context(device).generator();
  int64_t values[2];
  const uint64_t raw[2] = {g.seed(), g.offset()};
  std::memcpy(values, raw, sizeof values);
  return from_vector<int64_t>({values[0], values[1]});
}

}  // namespace

void save_training_checkpoint(const std::string& path, const layers::Module& model,
                              const optim::Optimizer& optimizer, const optim::LrSchedule* schedule,
                              int64_t epochs_done, Metadata metadata) {
  NamedTensors out;
  for (const auto& [name, t] : model.state_dict()) out.emplace_back("model." + name, t);
  const std::vector<std::string> names = parameter_names(model, optimizer);
  for (const auto& [key, t] : optimizer.state_dict()) {
    if (key.rfind("state.", 0) == 0) {
      const size_t dot = key.find('.', 6);
      const size_t i = std::stoul(key.substr(6, dot - 6));
      out.emplace_back("optimizer." + names.at(i) + key.substr(dot), t);
    } else {
      out.emplace_back("optimizer." + key, t);
    }
  }
  if (schedule != nullptr) {
    const optim::ScheduleState s = schedule->state();
    out.emplace_back("schedule.step", full({}, static_cast<double>(s.step), DType::Int64));
    out.emplace_back("schedule.values",
                     from_vector(s.values, {static_cast<int64_t>(s.values.size())}));
  }
  for (const Device& d : devices()) out.emplace_back("generator." + d.str(), generator_state(d));
  out.emplace_back("progress.epoch", full({}, static_cast<double>(epochs_done), DType::Int64));
  metadata.insert(metadata.begin(), {{"format", kCheckpointFormat},
                                     {"format_version", kCheckpointVersion},
                                     {"tamegrad_version", TAMEGRAD_VERSION},
                                     {"optimizer", optimizer.name()}});
  save_safetensors(path, out, metadata);
}

int64_t load_training_checkpoint(const std::string& path, layers::Module& model,
                                 optim::Optimizer& optimizer, optim::LrSchedule* schedule,
                                 Metadata* metadata,
                                 const std::function<void(const Metadata&)>& check) {
  const SafetensorsContents file = load_safetensors(path);
  const auto meta = [&](const std::string& key) {
    for (const auto& [k, v] : file.metadata) {
      if (k == key) return v;
    }
    return std::string();
  };
  TG_CHECK(meta("format") == kCheckpointFormat, path,
           ": not a tamegrad training checkpoint (metadata 'format' is '", meta("format"), "')");
  TG_CHECK(meta("format_version") == kCheckpointVersion, path,
           ": a training checkpoint of format version '", meta("format_version"),
           "'; this tamegrad reads version ", kCheckpointVersion,
           " (version 1 held no run configuration to check a resume against)");
  if (check) check(file.metadata);
  TG_CHECK(meta("optimizer") == optimizer.name(), path, ": saved with optimizer ",
           meta("optimizer"), ", resumed with ", optimizer.name());
  // Split by prefix, renaming the optimizer's per-parameter keys back to indices.
  const std::vector<std::string> names = parameter_names(model, optimizer);
  NamedTensors model_state, optimizer_state;
  Tensor schedule_step, schedule_values, epoch;
  std::vector<std::pair<Device, Tensor>> generators;
  for (const auto& [key, t] : file.tensors) {
    if (key.rfind("model.", 0) == 0) {
      model_state.emplace_back(key.substr(6), t);
    } else if (key.rfind("optimizer.param_groups.", 0) == 0 ||
               key.rfind("optimizer.clip_history.", 0) == 0 ||
               key.rfind("optimizer.loss_scaler.", 0) == 0) {
      optimizer_state.emplace_back(key.substr(10), t);
    } else if (key.rfind("optimizer.", 0) == 0) {
      const std::string rest = key.substr(10);
      std::string renamed;
      for (size_t i = 0; i < names.size() && renamed.empty(); ++i) {
        if (rest.rfind(names[i] + ".", 0) == 0 &&
            rest.find('.', names[i].size() + 1) == std::string::npos) {
          renamed = "state." + std::to_string(i) + rest.substr(names[i].size());
        }
      }
      optimizer_state.emplace_back(renamed.empty() ? key : renamed, t);
    } else if (key == "schedule.step") {
      schedule_step = t;
    } else if (key == "schedule.values") {
      schedule_values = t;
    } else if (key.rfind("generator.", 0) == 0) {
      Device d;
      try {
        d = Device(key.substr(10));
      } catch (const Error&) {
        TG_THROW(path, ": unexpected tensor '", key, "' (it names no device)");
      }
      TG_CHECK(t.dtype() == DType::Int64 && t.shape() == Shape{2}, path, ": '", key,
               "' must be int64 [seed, offset], got ", t.dtype(), " ", t.shape());
      // A GPU's stream matters only where that GPU trains (a GPU run resumed on a CPU).
      if (d.is_cpu() || d.index() < cuda_device_count()) generators.emplace_back(d, t);
    } else if (key == "progress.epoch") {
      epoch = t;
    } else {
      TG_THROW(path, ": unexpected tensor '", key, "'");
    }
  }
  TG_CHECK(epoch.defined() && epoch.dtype() == DType::Int64 && epoch.numel() == 1 &&
               epoch.item<int64_t>() >= 0,
           path, ": 'progress.epoch' must be one int64 >= 0");
  TG_CHECK((schedule != nullptr) == schedule_step.defined(), path, ": saved ",
           schedule_step.defined() ? "with" : "without", " a learning-rate schedule, resumed ",
           schedule != nullptr ? "with" : "without", " one");
  TG_CHECK(schedule_step.defined() == schedule_values.defined(), path,
           ": 'schedule.step' and 'schedule.values' come together, one is missing");
  // Without its generators' states a resumed run draws other dropout masks: no longer the
  // run it continues.
  const Device device = model.parameters().empty() ? Device::cpu() : model.parameters()[0].device();
  for (const Device& d : {Device::cpu(), device}) {
    bool found = false;
    for (const auto& [g, t] : generators) found = found || g == d;
    TG_CHECK(found, path, ": 'generator.", d,
             "' is missing; without it the run would not continue bit for bit");
  }
  // Weights or state with NaN or infinity would only train to chance accuracy.
  {
    NamedTensors trained;  // under the file's names
    for (const auto& [key, t] : file.tensors) {
      if (key.rfind("model.", 0) == 0 || key.rfind("optimizer.", 0) == 0)
        trained.emplace_back(key, t);
    }
    const std::vector<std::string> bad = non_finite_entries(trained);
    std::string names;
    for (const std::string& b : bad) names += (names.empty() ? "" : ", ") + b;
    TG_CHECK(bad.empty(), path, ": non-finite values (NaN or infinity) in ", names);
  }
  // Check the model's keys, shapes and dtypes first; the loads below check their own and
  // change nothing when they throw, and a later failure puts back what an earlier one
  // loaded.
  match_state(path + ": model", model.state_dict(), model_state, true, true);
  const auto cloned = [](const NamedTensors& state) {
    NamedTensors copy;
    for (const auto& [n, t] : state) copy.emplace_back(n, t.clone());
    return copy;
  };
  const NamedTensors model_before = cloned(model.state_dict());
  const NamedTensors optimizer_before = cloned(optimizer.state_dict());
  const optim::ScheduleState schedule_before =
      schedule != nullptr ? schedule->state() : optim::ScheduleState{};
  try {
    model.load_state_dict(model_state);
    try {
      optimizer.load_state_dict(optimizer_state);
    } catch (const Error& e) {
      // The optimizer names parameters by position (state.3.exp_avg); the file by name.
      std::string message = e.what();
      for (size_t i = 0; i < names.size(); ++i) {
        const std::string internal = "state." + std::to_string(i) + ".";
        for (size_t at = message.find(internal); at != std::string::npos;
             at = message.find(internal, at)) {
          const bool whole = at == 0 || message[at - 1] == '\'' || message[at - 1] == ' ';
          const std::string named = "optimizer." + names[i] + ".";
          if (whole) message.replace(at, internal.size(), named);
          at += whole ? named.size() : internal.size();
        }
      }
      TG_THROW(path, ": the optimizer's state does not fit: ", message);
    }
    if (schedule != nullptr) {
      TG_CHECK(schedule_values.defined() && schedule_step.dtype() == DType::Int64, path,
               ": 'schedule.step' must be int64 with 'schedule.values' beside it");
      const Tensor v = schedule_values.to(DType::Float64).contiguous();
      schedule->load_state(
          {schedule_step.item<int64_t>(),
           std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel())});
    }
  } catch (const Error&) {
    model.load_state_dict(model_before);
    optimizer.load_state_dict(optimizer_before);
    if (schedule != nullptr) schedule->load_state(schedule_before);
    throw;
  }
  for (const auto& [d, t] : generators) {
    uint64_t raw[2];
    std::memcpy(raw, t.contiguous().data_ptr<int64_t>(), sizeof raw);
    context(d).generator().set_state(raw[0], raw[1]);
  }
  if (metadata != nullptr) *metadata = file.metadata;
  return epoch.item<int64_t>();
}

ModelCheckpoint::ModelCheckpoint(std::string path, CheckpointOptions options)
    : path_(std::move(path)),
      options_(std::move(options)),
      best_(options_.maximize ? -std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::infinity()) {
  TG_CHECK(!path_.empty() && options_.every >= 1,
           "ModelCheckpoint: needs a path and every >= 1, got '", path_, "' and ", options_.every);
}

void ModelCheckpoint::on_epoch_end(TrainState& state) {
  if (!state.primary) return;
  if (options_.best_only) {
    const double value = state.logs.get(options_.monitor);
    const bool better = options_.maximize ? value > best_ : value < best_;  // NaN: never
    if (!better) return;
    best_ = value;
  } else if (state.epoch % options_.every != 0) {
    return;
  }
  save_training_checkpoint(path_, *state.model, *state.optimizer, state.schedule, state.epoch,
                           state.checkpoint_metadata);
  saved_epoch_ = state.epoch;
}

}  // namespace tg::train
