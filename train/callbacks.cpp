// The callbacks of callbacks.h.
#include "callbacks.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "../core/autograd.h"
#include "../core/factory.h"
#include "../layers/batch_norm.h"
#include "json.h"

namespace tg::train {

namespace {

// The number under `key` in a checkpoint's metadata; throws naming the file and the key
// when it is missing or not a number.
double metadata_number(const TrainState& state, const Metadata& metadata, const std::string& key) {
  for (const auto& [k, text] : metadata) {
    if (k != key) continue;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    TG_CHECK(!text.empty() && end == text.c_str() + text.size() && errno != ERANGE,
             state.resumed_from, ": metadata '", key, "' must be a number, got '", text, "'");
    return v;
  }
  TG_THROW(state.resumed_from, ": metadata '", key, "' is missing");
}

std::string spaced(std::string name) {
  for (char& c : name) c = c == '_' ? ' ' : c;
  return name;
}

}  // namespace

// ---- EarlyStopping ----

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)),
      early_({std::max(options_.patience, 1), options_.min_delta, options_.restore_best}) {
  TG_CHECK(options_.patience >= 0, "EarlyStopping: patience must be >= 0 (0: never stop), got ",
           options_.patience);
}

void EarlyStopping::on_epoch_end(TrainState& state) {
  const bool spent =
      early_.update(state.logs.get(options_.monitor),
                    options_.restore_best ? state.model->state_dict() : NamedTensors{});
  char best[32];
  std::snprintf(best, sizeof best, "%.17g", early_.best());
  state.set_checkpoint_metadata("early_stop_best_loss", best);
  state.set_checkpoint_metadata("early_stop_best_epoch", std::to_string(early_.best_epoch()));
  if (options_.patience == 0 || !spent) return;
  stopped_ = true;
  state.stop = true;
  state.stop_reason = "early_stop";
  if (!options_.announce.empty() && state.primary) {
    std::printf(
        "%s: early stop after epoch %d: the %s has not improved for %d epochs (best %.4f "
        "at epoch %d)\n",
        options_.announce.c_str(), state.epoch, spaced(options_.monitor).c_str(), options_.patience,
        early_.best(), early_.best_epoch());
  }
}

void EarlyStopping::on_train_end(TrainState& state) {
  if (options_.restore_best && early_.best_epoch() != state.epoch) {
    restored_ = early_.restore_best(state.model->state_dict());
  }
}

void EarlyStopping::on_resume(TrainState& state, const Metadata& saved) {
  const double best = metadata_number(state, saved, "early_stop_best_loss");
  const double best_epoch = metadata_number(state, saved, "early_stop_best_epoch");
  TG_CHECK(best_epoch >= 0 && best_epoch <= state.epoch && best_epoch == std::floor(best_epoch),
           state.resumed_from, ": metadata 'early_stop_best_epoch' is ", best_epoch,
           ", not an epoch of the ", state.epoch, " done");
  early_.set_progress(best, static_cast<int>(best_epoch), state.epoch);
}

// ---- LrScheduler ----

LrScheduler::LrScheduler(std::unique_ptr<optim::LrSchedule> schedule, ScheduleTiming timing,
                         std::string monitor)
    : schedule_(std::move(schedule)), timing_(timing), monitor_(std::move(monitor)) {
  TG_CHECK(schedule_ != nullptr, "LrScheduler: a null schedule");
  TG_CHECK(monitor_.empty() || timing_ == ScheduleTiming::PerEpoch,
           "LrScheduler: a monitored metric ('", monitor_, "') is known only at an epoch's end");
}

void LrScheduler::on_attach(TrainState& state) {
  TG_CHECK(state.schedule == nullptr, "LrScheduler: the trainer has a schedule already");
  state.schedule = schedule_.get();
}

void LrScheduler::after_step(TrainState&) {
  if (timing_ == ScheduleTiming::PerStep) schedule_->step();
}

void LrScheduler::on_epoch_end(TrainState& state) {
  if (timing_ != ScheduleTiming::PerEpoch) return;
  if (monitor_.empty()) {
    schedule_->step();
  } else {
    schedule_->step_on(state.logs.get(monitor_));
  }
}

void LrScheduler::on_resume(TrainState& state, const Metadata&) {
  const int64_t expected =
      state.epoch * (timing_ == ScheduleTiming::PerStep ? state.steps_per_epoch : 1);
  TG_CHECK(schedule_->steps() == expected, state.resumed_from, ": 'schedule.step' is ",
           schedule_->steps(), ", but ", state.epoch, " epoch(s) of this schedule take ", expected);
}

// ---- TerminateOnNonFinite ----

void TerminateOnNonFinite::on_train_begin(TrainState& state) {
  value_ = zeros({}, TensorOptions(DType::Float64).device(state.device));
  readback_ = std::make_unique<Readback>(value_);
  queued_.clear();
}

void TerminateOnNonFinite::after_backward(TrainState& state) {
  {
    NoGradGuard no_grad;
    value_.copy_(state.loss.detach());
  }
  readback_->start();
  queued_.emplace_back(state.epoch, state.batch);
  while (auto v = readback_->poll()) check(v->front(), state);
}

void TerminateOnNonFinite::on_epoch_end(TrainState& state) {
  while (auto v = readback_->wait()) check(v->front(), state);
}

void TerminateOnNonFinite::check(double loss, const TrainState& state) {
  const auto [epoch, batch] = queued_.front();
  queued_.pop_front();
  if (std::isfinite(loss)) return;
  throw NonFiniteLoss(std::string("the training loss became ") +
                      (std::isnan(loss) ? "NaN" : "infinite") + " at epoch " +
                      std::to_string(epoch) + ", batch " + std::to_string(batch + 1) + " of " +
                      std::to_string(state.batches) +
                      "; training stopped there. A rate too large, inputs scaled badly or "
                      "exploding gradients (clip them, watch them with the gradient monitor) are "
                      "the usual causes");
}

// ---- GradientMonitor ----

GradientMonitor::GradientMonitor(std::string program, const optim::MonitorOptions& options,
                                 bool keep_records)
    : program_(std::move(program)), keep_(keep_records), monitor_(options) {}

void GradientMonitor::on_train_begin(TrainState& state) {
  print_ = state.primary;
  telemetry_ =
      std::make_unique<optim::GradientTelemetry>(*state.optimizer, state.model->named_parameters());
}

void GradientMonitor::after_step(TrainState& state) {
  telemetry_->record(state.step - 1);
  while (auto stats = telemetry_->poll()) take(*stats);
}

void GradientMonitor::on_batch_end(TrainState& state) {
  // Between batches only in one process: in a data-parallel run the records may reach the
  // ranks' hosts at different batches, and a rank stopping alone would leave the others
  // waiting in an all-reduce; they all stop at the epoch's end instead.
  if (state.world_size == 1 && monitor_.stop_requested()) state.stop_now = true;
}

void GradientMonitor::on_epoch_end(TrainState& state) {
  drain();
  state.logs.set_json("alarms", alarms_json());
  if (monitor_.stop_requested()) {
    state.stop = true;
    state.stop_reason = stopped_by();
  }
}

void GradientMonitor::drain() {
  if (!telemetry_) return;
  while (auto stats = telemetry_->wait()) take(*stats);
}

std::string GradientMonitor::stopped_by() const {
  for (const optim::Alarm& a : monitor_.alarms()) {
    if (a.action == optim::AlarmAction::Stop) return optim::alarm_kind_name(a.kind);
  }
  return "";
}

void GradientMonitor::take(const optim::GradientStats& stats) {
  for (const optim::Alarm& a : monitor_.observe(stats)) {
    if (print_) std::fprintf(stderr, "%s: alarm: %s\n", program_.c_str(), a.message.c_str());
    unreported_.push_back(a);
  }
  if (keep_) records_.push_back(stats);
}

std::string GradientMonitor::alarms_json() {
  std::string out = "[";
  for (size_t i = 0; i < unreported_.size(); ++i) {
    const optim::Alarm& a = unreported_[i];
    out += (i ? ", " : "") +
           json_object({{"step", std::to_string(a.step)},
                        {"kind", json_string(optim::alarm_kind_name(a.kind))},
                        {"tensor", json_string(a.tensor)},
                        {"value", json_number(a.value)},
                        {"threshold", json_number(a.threshold)},
                        {"action", json_string(optim::alarm_action_name(a.action))}});
  }
  unreported_.clear();
  return out + "]";
}

// ---- WeightAveraging ----

WeightAveraging::WeightAveraging(const AveragingOptions& options) : options_(options) {
  TG_CHECK(options.ema_decay >= 0 && options.ema_decay < 1 && options.swa_from >= 0,
           "WeightAveraging: ema_decay must be in [0, 1) and swa_from >= 0, got ",
           options.ema_decay, " and ", options.swa_from);
}

void WeightAveraging::on_train_begin(TrainState& state) {
  const NamedTensors params = state.model->named_parameters();
  if (options_.ema_decay > 0) {
    ema_ = std::make_unique<optim::AveragedWeights>(
        optim::AveragedWeights::ema(params, options_.ema_decay));
  }
  if (options_.swa_from > 0) {
    swa_ = std::make_unique<optim::AveragedWeights>(optim::AveragedWeights::swa(params));
  }
}

void WeightAveraging::after_step(TrainState&) {
  if (ema_) ema_->update();
}

void WeightAveraging::on_epoch_end(TrainState& state) {
  if (swa_ && state.epoch >= options_.swa_from) swa_->update();
}

void WeightAveraging::apply(const optim::AveragedWeights& average, const layers::Module& source,
                            layers::Module& into, data::DataLoader& loader, int64_t batches) {
  into.load_state_dict(source.state_dict());
  average.copy_to(into.named_parameters());
  loader.start_epoch(0);
  layers::update_batch_norm(into, std::min(loader.batches(), batches),
                            [&](int64_t b) { return loader.batch(b).x; });
}

}  // namespace tg::train
