// The Trainer's loop (trainer.h; Note [trainer step]).
#include "trainer.h"

#include <algorithm>
#include <chrono>

#include "../core/autocast.h"
#include "../core/autograd.h"
#include "../core/factory.h"
#include "../core/ops/elementwise.h"
#include "../core/ops/index.h"
#include "checkpoint.h"

namespace tg::train {

LossFunction cross_entropy_loss() {
  return [](const Tensor& output, const Tensor& target, Reduction reduction) {
    return cross_entropy(output, target, reduction);
  };
}

Trainer::Trainer(layers::Module& model, optim::Optimizer& optimizer, LossFunction loss,
                 const TrainerOptions& options)
    : model_(model), optimizer_(optimizer), loss_(std::move(loss)), options_(options) {
  TG_CHECK(options.epochs >= 1 && options.accumulate >= 1,
           "Trainer: epochs and accumulate must be >= 1, got ", options.epochs, " and ",
           options.accumulate);
  TG_CHECK(options.clip_norm >= 0 && options.clip_value >= 0,
           "Trainer: clip_norm and clip_value must be >= 0 (0: off), got ", options.clip_norm,
           " and ", options.clip_value);
  TG_CHECK(!(options.clip_auto && options.clip_norm > 0), "Trainer: clip_norm (", options.clip_norm,
           ") and clip_auto both clip the global norm; give one");
  if (options.clip_auto) optimizer.set_history_clip(*options.clip_auto);
  TG_CHECK(options.precision == DType::Float32 || is_half(options.precision),
           "Trainer: precision must be float32, bfloat16 or float16, got ", options.precision);
  if (options.loss_scaler) scaler_.emplace(optimizer, *options.loss_scaler);
  TG_CHECK(loss_ != nullptr, "Trainer: a null loss function");
  state_.model = &model_;
  state_.optimizer = &optimizer_;
  state_.epochs = options.epochs;
  state_.validation_name = options.validation_name;
  state_.device = optimizer.flat_groups().front().device;
  step_ = [this](const data::Batch& batch, double weight, TrainState&) {
    Tensor loss;
    {
      const autocast low(options_.precision);
      loss = loss_(model_(batch.x), batch.y, Reduction::Mean);
    }
    const Tensor weighted = weight == 1.0 ? loss : mul(loss, weight);
    (scaler_ ? scaler_->scale(weighted) : weighted).backward();
    return loss;
  };
}

Trainer& Trainer::add(std::shared_ptr<Callback> callback) {
  TG_CHECK(callback != nullptr, "Trainer::add: a null callback");
  callback->on_attach(state_);
  callbacks_.push_back(std::move(callback));
  return *this;
}

void Trainer::set_data_parallel(distributed::DataParallel* parallel, int rank, int world_size) {
  parallel_ = parallel;
  state_.primary = rank == 0;
  state_.world_size = world_size;
}

void Trainer::set_step_function(StepFunction step) {
  TG_CHECK(step != nullptr, "Trainer::set_step_function: a null function");
  TG_CHECK(options_.precision == DType::Float32 && !options_.loss_scaler,
           "Trainer::set_step_function: TrainerOptions::precision and loss_scaler apply to the "
           "Trainer's own step only; a step function of one's own opens its own tg::autocast "
           "scope and scales its loss with an optim::LossScaler attached to the optimizer");
  step_ = std::move(step);
  custom_step_ = true;
}

void Trainer::for_each(void (Callback::*point)(TrainState&)) {
  for (const auto& callback : callbacks_) ((*callback).*point)(state_);
}

void Trainer::prepare(const data::DataLoader& train) {
  state_.batches = train.batches();
  state_.batch_size = train.options().batch_size;
  state_.images = train.size();
  state_.steps_per_epoch = (train.batches() + options_.accumulate - 1) / options_.accumulate;
}

Metadata Trainer::resume(const std::string& path, const data::DataLoader& train,
                         const std::function<void(const Metadata&)>& check) {
  prepare(train);
  Metadata saved;
  const int64_t done =
      load_training_checkpoint(path, model_, optimizer_, state_.schedule, &saved, check);
  TG_CHECK(done <= options_.epochs, path, ": 'progress.epoch' is ", done, ", past the run's ",
           options_.epochs, " epochs");
  state_.resumed_from = path;
  start_epoch_ = static_cast<int>(done);
  state_.epoch = start_epoch_;
  state_.step = done * state_.steps_per_epoch;
  for (const auto& callback : callbacks_) callback->on_resume(state_, saved);
  return saved;
}

// Note [trainer step]: at the group's last batch, its gradients already reduced over the
// ranks (run_epoch), clips and steps.
void Trainer::finish_group(int64_t b, Tensor& grad_norm) {
  if (options_.clip_value > 0) optimizer_.clip_grad_value(options_.clip_value);
  if (options_.clip_auto) {
    grad_norm = optimizer_.clip_grad_norm_auto();
  } else {
    grad_norm = options_.clip_norm > 0 ? optimizer_.clip_grad_norm(options_.clip_norm) : Tensor();
  }
  if (b + 1 == state_.batches && !grad_norm.defined() && options_.measure_grad_norm)
    grad_norm = optimizer_.grad_norm();
  optimizer_.step();
  ++state_.step;
  for_each(&Callback::after_step);
}

Tensor Trainer::run_epoch(data::DataLoader& train) {
  const int64_t k = options_.accumulate;
  state_.loss_sum = Tensor();  // made at the first batch, in the loss's dtype
  Tensor grad_norm;
  for (int64_t b = 0; b < state_.batches && !state_.stop_now; ++b) {
    state_.batch = b;
    for_each(&Callback::on_batch_begin);
    const data::Batch batch = train.batch(b);
    const int64_t group_first = b - b % k;
    const int64_t group_last = std::min(group_first + k, state_.batches) - 1;
    if (b == group_first) optimizer_.zero_grad();
    // The batch's share of its group's images over every rank weights its loss, so the
    // group's summed gradient is their mean; one process without accumulation keeps the
    // plain mean, bit for bit.
    int64_t group_images = 0;
    for (int64_t i = group_first; i <= group_last; ++i)
      group_images += train.global_batch_images(i);
    const double weight = k == 1 && parallel_ == nullptr ? 1.0
                                                         : static_cast<double>(batch.y.numel()) /
                                                               static_cast<double>(group_images);
    // The last batch's backward starts the gradient buckets' reductions (Note [gradient
    // buckets]); a step function of one's own may run several backwards, so its reductions
    // wait for reduce_gradients.
    // The reduction ends before the callbacks, so that after_backward sees the group's last
    // gradients summed over the ranks (as after DDP's backward) and never races the bucket
    // thread.
    if (parallel_ != nullptr && b == group_last && !custom_step_) parallel_->prepare_for_backward();
    state_.loss = step_(batch, weight, state_);
    if (parallel_ != nullptr && b == group_last) parallel_->reduce_gradients();
    for_each(&Callback::after_backward);
    if (b == group_last) finish_group(b, grad_norm);
    {
      NoGradGuard no_grad;
      if (!state_.loss_sum.defined())
        state_.loss_sum = zeros({}, TensorOptions(state_.loss.dtype()).device(state_.device));
      state_.loss_sum =
          tg::add(state_.loss_sum, mul(state_.loss.detach(), static_cast<double>(batch.y.numel())));
    }
    for_each(&Callback::on_batch_end);
  }
  return grad_norm;
}

// The epoch's logs: the training loss (summed over the ranks), the validation metrics (rank
// 0's for every rank), the last measured gradient norm and the rate the epoch ran with.
void Trainer::end_epoch(data::DataLoader& train, data::DataLoader* validation, double seconds,
                        const Tensor& grad_norm) {
  Logs& logs = state_.logs;
  logs.clear();
  if (!state_.loss_sum.defined())  // an epoch without batches
    state_.loss_sum = zeros({}, TensorOptions(DType::Float32).device(state_.device));
  if (parallel_ != nullptr) parallel_->group().all_reduce(state_.loss_sum);
  logs.set("train_loss", state_.loss_sum.item<double>() / static_cast<double>(train.size()));
  if (validation != nullptr) {
    if (parallel_ != nullptr && options_.sync_buffers) parallel_->average_buffers();
    const ClassificationMetrics m = evaluate(*validation);
    double loss = m.loss(), accuracy = m.accuracy();
    if (parallel_ != nullptr) {
      const std::vector<double> v = parallel_->group().broadcast_values({loss, accuracy}, 0);
      loss = v[0];
      accuracy = v[1];
    }
    logs.set(state_.validation_name + "_loss", loss);
    logs.set(state_.validation_name + "_accuracy", accuracy);
  }
  logs.set("grad_norm", grad_norm.defined() ? grad_norm.item<double>() : 0.0);
  logs.set("lr", optimizer_.lr());
  if (scaler_) {
    logs.set("loss_scale", scaler_->scale_value());
    logs.set("skipped_steps", static_cast<double>(scaler_->skipped_steps()));
  }
  logs.set("seconds", seconds);
  logs.set("images_per_second", static_cast<double>(train.size()) / seconds);
}

const TrainState& Trainer::fit(data::DataLoader& train, data::DataLoader* validation) {
  prepare(train);
  for_each(&Callback::on_train_begin);
  for (int epoch = start_epoch_ + 1; epoch <= options_.epochs && !state_.stop; ++epoch) {
    state_.epoch = epoch;
    train.start_epoch(epoch);
    for_each(&Callback::on_epoch_begin);
    const auto start = std::chrono::steady_clock::now();
    const Tensor grad_norm = run_epoch(train);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    train_seconds_ += seconds;
    end_epoch(train, validation, seconds, grad_norm);
    for_each(&Callback::on_epoch_end);
    if (state_.stop_now) state_.stop = true;
  }
  for_each(&Callback::on_train_end);
  return state_;
}

ClassificationMetrics evaluate(layers::Module& model, data::DataLoader& loader,
                               const LossFunction& loss, int top_k) {
  NoGradGuard no_grad;
  const bool training = model.is_training();
  model.eval();
  loader.start_epoch(0);
  ClassificationMetrics metrics(0, top_k);
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const data::Batch batch = loader.batch(b);
    const Tensor outputs = model(batch.x);
    metrics.add(outputs, batch.y, loss(outputs, batch.y, Reduction::Sum).item<double>());
  }
  model.train(training);
  return metrics;
}

ClassificationMetrics Trainer::evaluate(data::DataLoader& loader, int top_k) {
  return train::evaluate(model_, loader, loss_, top_k);
}

Tensor Trainer::predict(data::DataLoader& loader) {
  NoGradGuard no_grad;
  const bool training = model_.is_training();
  model_.eval();
  loader.start_epoch(0);
  std::vector<Tensor> outputs;
  for (int64_t b = 0; b < loader.batches(); ++b) {
    outputs.push_back(model_(loader.batch(b).x).to(Device::cpu()));
  }
  model_.train(training);
  return outputs.empty() ? Tensor() : cat(outputs, 0);
}

}  // namespace tg::train
