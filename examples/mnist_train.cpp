// mnist_train: trains the MLP or the CNN of examples/mnist_models.h on an MNIST-format data
// set (Fashion-MNIST by default) and reports the test accuracy. `mnist_train --help` lists
// every flag with its default. The last line of stdout is one JSON object (the summary);
// --metrics FILE writes one JSON object per epoch.
//
// Exit codes: 0 trained; 1 the data or the run failed (the message says where), a training
// loss became non-finite (naming the epoch and batch) or the monitor stopped the run on a
// non-finite gradient; 2 a flag was wrong (the message names the flag and the valid values),
// or --resume was given a checkpoint of another configuration (naming each flag).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <string>

#include "../data/dataloader.h"
#include "../data/mnist.h"
#include "../tamegrad.h"
#include "common/checkpoint.h"
#include "common/distributed_run.h"
#include "common/gradient_watch.h"
#include "common/loss_guard.h"
#include "common/progress.h"
#include "common/tensorboard.h"
#include "mnist_recipe.h"
#include "mnist_resume.h"

namespace {

using namespace tg;
using tg::examples::evaluate;
using tg::examples::Evaluation;
using tg::examples::FlagError;
using tg::examples::Flags;
using tg::examples::initialize;
using tg::examples::json_number;
using tg::examples::json_string;
using tg::examples::make_optimizer;
using tg::examples::make_schedule;
using tg::examples::pick_device;

int train(const Flags& f) {
  Device device = pick_device(f.device);
  // Before anything takes time: a file that cannot be written fails now, not after an epoch.
  tg::examples::check_output_paths(f);
  if (f.threads > 0) omp_set_num_threads(f.threads);
  // --distributed: this process's rank, its device, and the group (common/distributed_run.h).
  const tg::examples::DistributedRun dist =
      tg::examples::DistributedRun::start(f.distributed, f.dist_timeout, device);
  tg::examples::MnistLoaders loaders =
      tg::examples::make_loaders(f, device, f.seed, dist.rank, dist.world);
  data::DataLoader& train_loader = *loaders.train;
  data::DataLoader& test_loader = *loaders.test;

  manual_seed(f.seed);  // the model's initial values come from the CPU generator
  std::shared_ptr<layers::Module> model = tg::examples::make_model(f);
  initialize(*model, f.init);
  model->to(device);
  std::unique_ptr<optim::Optimizer> opt = make_optimizer(f, model->parameters());
  // Checks that every rank built the same model and gives every rank rank 0's values.
  std::unique_ptr<distributed::DataParallel> parallel;
  if (dist.group) {
    parallel =
        std::make_unique<distributed::DataParallel>(dist.group, *opt, model->named_buffers());
    dist.decorrelate_generators(device);
  }
  const int64_t steps_per_epoch = (train_loader.batches() + f.accumulate - 1) / f.accumulate;
  std::unique_ptr<optim::LrSchedule> schedule = make_schedule(f, *opt, steps_per_epoch);
  const bool per_batch = f.schedule == "cosine" || f.schedule == "onecycle";
  const std::string& dataset = loaders.dataset;
  std::printf(
      "mnist_train: %s, %s (lr %g), %s on %s: %lld training / %lld test images, %lld "
      "parameters, %d OpenMP threads\n",
      f.model.c_str(), opt->name().c_str(), opt->lr(), dataset.c_str(), device.str().c_str(),
      static_cast<long long>(train_loader.size()), static_cast<long long>(test_loader.size()),
      static_cast<long long>(model->parameter_count()), omp_get_max_threads());
  std::printf("mnist_train: inputs (pixel / 255 - %.4f) / %.4f (%s), learning-rate schedule %s\n",
              loaders.inputs.mean, loaders.inputs.std, loaders.inputs_from.c_str(),
              f.schedule.c_str());
  if (device.is_cpu())
    std::printf("mnist_train: CPU backend: %s\n", cpu_backend_description().c_str());

  int64_t epochs_done = 0;
  // --early-stop / --restore-best: the best test loss and its epoch (kept in checkpoints;
  // the snapshot of the best weights is not, so a resumed run keeps it from its next best).
  optim::EarlyStopping early(
      {std::max(f.early_stop, 1), f.min_delta, /*keep_best=*/f.restore_best});
  // Note [run configuration] (mnist_resume.h): what a checkpoint records and a resume checks.
  const Metadata configuration =
      tg::examples::run_configuration(f, dataset, loaders.inputs, dist.world);
  if (!f.resume.empty()) {
    Metadata saved;
    epochs_done =
        tg::examples::load_training_checkpoint(f.resume, *model, *opt, schedule.get(), &saved);
    tg::examples::check_resume_configuration(f.resume, saved, configuration, f.schedule);
    TG_CHECK(epochs_done <= f.epochs, f.resume, ": 'progress.epoch' is ", epochs_done,
             ", past --epochs ", f.epochs);
    // The schedule's count must be the one its epochs make (once per batch step or epoch).
    if (schedule) {
      const int64_t expected = epochs_done * (per_batch ? steps_per_epoch : 1);
      TG_CHECK(schedule->steps() == expected, f.resume, ": 'schedule.step' is ", schedule->steps(),
               ", but ", epochs_done, " epoch(s) of this schedule take ", expected);
    }
    const double best_loss = tg::examples::metadata_number(f.resume, saved, "early_stop_best_loss");
    const double best_epoch =
        tg::examples::metadata_number(f.resume, saved, "early_stop_best_epoch");
    TG_CHECK(best_epoch >= 0 && best_epoch <= static_cast<double>(epochs_done) &&
                 best_epoch == static_cast<int>(best_epoch),
             f.resume, ": metadata 'early_stop_best_epoch' is ", best_epoch,
             ", not an epoch of the ", epochs_done, " done");
    dist.decorrelate_generators(device);
    early.set_progress(best_loss, static_cast<int>(best_epoch), static_cast<int>(epochs_done));
    std::printf("mnist_train: resumed from %s after epoch %lld\n", f.resume.c_str(),
                static_cast<long long>(epochs_done));
  }
  std::unique_ptr<tg::examples::EventWriter> events;
  if (!f.tensorboard.empty() && dist.primary())
    events = std::make_unique<tg::examples::EventWriter>(f.tensorboard);
  std::ofstream metrics;
  if (!f.metrics.empty() && dist.primary()) {
    metrics.open(f.metrics);
    if (!metrics) throw FlagError("--metrics " + f.metrics + ": cannot open it for writing");
  }
  std::unique_ptr<tg::examples::GradientWatch> watch;
  if (f.monitor) {
    optim::MonitorOptions options;
    options.max_grad_norm = f.max_grad_norm;
    watch = std::make_unique<tg::examples::GradientWatch>(
        "mnist_train", *opt, model->named_parameters(), options, /*print=*/dist.primary());
  }
  double train_seconds = 0;
  Evaluation last;
  if (epochs_done >= std::min(f.epochs, f.stop_after > 0 ? f.stop_after : f.epochs)) {
    last = evaluate(*model, test_loader);
  }
  const int last_epoch = f.stop_after > 0 ? std::min(f.stop_after, f.epochs) : f.epochs;
  tg::examples::NonFiniteLossGuard loss_guard(device);
  int epochs_run = static_cast<int>(epochs_done);
  bool early_stopped = false;
  for (int epoch = static_cast<int>(epochs_done) + 1; epoch <= last_epoch; ++epoch) {
    tg::examples::Progress progress(epoch, f.epochs, static_cast<long>(train_loader.batches()));
    train_loader.start_epoch(epoch);
    // The loss is summed on the device and read once per epoch (or per redraw): no wait for
    // the device inside a step.
    Tensor loss_sum = zeros({}, TensorOptions(DType::Float32).device(device));
    Tensor grad_norm;
    // --accumulate K: one optimizer step per group of K batches, each batch's loss weighted
    // by its share of the group's images, so the step equals one on the whole group.
    const int64_t batches = train_loader.batches();
    const int64_t k = f.accumulate;
    for (int64_t b = 0; b < batches; ++b) {
      const data::Batch batch = train_loader.batch(b);
      const int64_t group_first = b - b % k;
      const int64_t group_last = std::min(group_first + k, batches) - 1;
      if (b == group_first) opt->zero_grad();
      // Images of the group over every rank: this batch's loss is weighted by its share, so
      // that the gradients summed over the group (and the ranks) are the group's mean.
      int64_t group_images = 0;
      for (int64_t i = group_first; i <= group_last; ++i) {
        group_images += train_loader.global_batch_images(i);
      }
      const Tensor loss = cross_entropy((*model)(batch.x), batch.y);
      loss_guard.record(loss, epoch, b, batches);
      if (k == 1 && !parallel) {
        loss.backward();
      } else {
        mul(loss, static_cast<double>(batch.y.numel()) / static_cast<double>(group_images))
            .backward();
      }
      if (b == group_last) {
        if (parallel) parallel->reduce_gradients();
        if (f.clip_value > 0) {
          std::vector<Tensor> grads;
          for (const optim::FlatGroup& g : opt->flat_groups()) grads.push_back(g.grads);
          clip_grad_value_(grads, f.clip_value);
        }
        grad_norm = f.clip_norm > 0 ? opt->clip_grad_norm(f.clip_norm) : Tensor();
        if (b + 1 == batches && !grad_norm.defined()) grad_norm = opt->grad_norm();
        opt->step();
        if (per_batch) schedule->step();
        if (watch) watch->after_step((epoch - 1) * steps_per_epoch + b / k);
      }
      {
        NoGradGuard no_grad;
        loss_sum = add(loss_sum, mul(loss.detach(), static_cast<double>(batch.y.numel())));
      }
      if (progress.due(static_cast<long>(b + 1))) {
        const double images = static_cast<double>((b + 1) * f.batch);
        progress.draw(static_cast<long>(b + 1), loss_sum.item<double>() / images,
                      static_cast<long>(std::min<double>(images, train_loader.size())));
      }
      // A stop between batches only without --distributed: with it, records may reach the
      // ranks' hosts at different batches (on a GPU), and a rank that stopped early would
      // leave the others waiting in an all-reduce; they all stop after the epoch instead,
      // having taken the same records.
      if (watch && !dist.group && watch->stop_requested()) break;
    }
    loss_guard.drain();
    if (watch) watch->drain();
    if (dist.group) dist.group->all_reduce(loss_sum);
    const double train_loss = loss_sum.item<double>() / static_cast<double>(train_loader.size());
    const double seconds = progress.seconds();
    progress.finish();
    train_seconds += seconds;
    if (parallel && f.sync_bn) parallel->average_buffers();
    last = evaluate(*model, test_loader);
    if (dist.group) {
      // Rank 0's numbers decide for every rank (early stopping, plateau, alarms agree).
      const std::vector<double> v = dist.group->broadcast_values({last.loss, last.accuracy}, 0);
      last = {v[0], v[1]};
    }
    const double norm = grad_norm.defined() ? grad_norm.item<double>() : 0.0;
    const double epoch_lr = opt->lr();
    if (f.schedule == "step") schedule->step();
    if (f.schedule == "plateau") static_cast<optim::ReduceLROnPlateau&>(*schedule).step(last.loss);
    std::printf(
        "epoch %d/%d: train loss %.4f, test loss %.4f, test accuracy %.4f, grad norm "
        "%.4g, %.1f s (%.0f images/s)\n",
        epoch, f.epochs, train_loss, last.loss, last.accuracy, norm, seconds,
        train_loader.size() / seconds);
    std::fflush(stdout);
    if (metrics) {
      metrics << tg::examples::json_object(
                     {{"epoch", std::to_string(epoch)},
                      {"train_loss", json_number(train_loss)},
                      {"test_loss", json_number(last.loss)},
                      {"test_accuracy", json_number(last.accuracy)},
                      {"grad_norm", json_number(norm)},
                      {"lr", json_number(epoch_lr)},
                      {"seconds", json_number(seconds)},
                      {"images_per_second", json_number(train_loader.size() / seconds)},
                      {"alarms", watch ? watch->take_alarms_json() : "[]"}})
              << "\n";
      metrics.flush();
    }
    if (events) {
      for (const auto& [tag, value] : {std::pair<const char*, double>{"train_loss", train_loss},
                                       {"test_loss", last.loss},
                                       {"test_accuracy", last.accuracy},
                                       {"grad_norm", norm},
                                       {"lr", epoch_lr},
                                       {"seconds", seconds},
                                       {"images_per_second", train_loader.size() / seconds}}) {
        events->scalar(tag, epoch, value);
      }
      events->flush();
    }
    // Keras' EarlyStopping on the test loss (optim/early_stopping.h).
    const bool patience_spent = early.update(last.loss, model->state_dict());
    if (!f.checkpoint.empty() && dist.primary()) {
      char loss_text[32];
      std::snprintf(loss_text, sizeof loss_text, "%.17g", early.best());
      Metadata metadata = configuration;
      metadata.insert(metadata.end(),
                      {{"model", f.model},
                       {"early_stop_best_loss", loss_text},
                       {"early_stop_best_epoch", std::to_string(early.best_epoch())}});
      tg::examples::save_training_checkpoint(f.checkpoint, *model, *opt, schedule.get(), epoch,
                                             metadata);
    }
    epochs_run = epoch;
    if (watch && watch->stop_requested()) {
      std::printf("mnist_train: stopped in epoch %d by a %s alarm (see stderr)\n", epoch,
                  watch->stopped_by().c_str());
      break;
    }
    if (f.early_stop > 0 && patience_spent) {
      std::printf(
          "mnist_train: early stop after epoch %d: the test loss has not improved for %d "
          "epochs (best %.4f at epoch %d)\n",
          epoch, f.early_stop, early.best(), early.best_epoch());
      early_stopped = true;
      break;
    }
  }
  if (f.restore_best && early.best_epoch() != epochs_run &&
      early.restore_best(model->state_dict())) {
    last = evaluate(*model, test_loader);
    std::printf("mnist_train: restored the weights of epoch %d: test loss %.4f, accuracy %.4f\n",
                early.best_epoch(), last.loss, last.accuracy);
  }
  std::printf("%s\n", tg::examples::json_object(
                          {{"test_accuracy", json_number(last.accuracy)},
                           {"test_loss", json_number(last.loss)},
                           {"train_seconds", json_number(train_seconds, "%.2f")},
                           {"epochs", std::to_string(epochs_run)},
                           {"early_stopped", early_stopped ? "true" : "false"},
                           {"alarms", std::to_string(watch ? watch->alarm_count() : 0)},
                           {"stopped_by", json_string(watch ? watch->stopped_by() : "")},
                           {"best_epoch", std::to_string(early.best_epoch())},
                           {"device", json_string(device.str())},
                           {"model", json_string(f.model)},
                           {"optimizer", json_string(f.optimizer)},
                           {"schedule", json_string(f.schedule)},
                           {"dataset", json_string(dataset)},
                           {"seed", std::to_string(f.seed)},
                           {"world_size", std::to_string(dist.world)},
                           {"threads", std::to_string(omp_get_max_threads())}})
                          .c_str());
  // A run stopped on non-finite gradients failed, as one whose loss went non-finite does.
  return watch && watch->stopped_by() == "non_finite" ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (const int code = parse_flags(argc, argv, f); code >= 0) return code;
  // A failed rank ends the whole job (distributed::finish aborts it) instead of leaving the
  // others waiting in a collective.
  return distributed::finish(
      tg::examples::run_reporting_errors("mnist_train", [&] { return train(f); }));
}
