// mnist_train: trains the MLP or the CNN of examples/mnist_models.h on an MNIST-format data
// set (Fashion-MNIST by default) and reports the test accuracy; wiring of the training
// package (train/): a Trainer and the callbacks the flags ask for. `mnist_train --help`
// lists every flag with its default. The last line of stdout is one JSON object (the
// summary); --metrics FILE writes one JSON object per epoch (CSV for a .csv name).
//
// Exit codes: 0 trained; 1 the data or the run failed (the message says where), a training
// loss became non-finite (naming the epoch and batch) or the monitor stopped the run on a
// non-finite gradient; 2 a flag was wrong (the message names the flag and the valid values),
// or --resume was given a checkpoint of another configuration (naming each flag).

#include <cstdio>
#include <memory>
#include <string>

#include "../tamegrad.h"
#include "common/distributed_run.h"
#include "mnist_recipe.h"
#include "mnist_resume.h"

namespace {

using namespace tg;
namespace ex = tg::examples;
using train::json_number;
using train::json_string;

// Ends the run after epoch `last` as if interrupted (--stop-after): the schedules still span
// --epochs, and a checkpoint lets --resume go on.
struct StopAfter : train::Callback {
  explicit StopAfter(int last) : last(last) {}
  void on_epoch_end(train::TrainState& state) override { state.stop = state.epoch >= last; }
  int last;
};

// The callbacks the flags ask for, in the order they run at an epoch's end: the loss check
// and the monitor first (their verdicts reach the logs), the schedule, what prints and
// writes, early stopping, and the checkpoint last (it keeps early stopping's best).
struct Watchers {
  std::shared_ptr<train::GradientMonitor> monitor;
  std::shared_ptr<train::EarlyStopping> early;
};

Watchers add_callbacks(train::Trainer& trainer, const ex::Flags& f, optim::Optimizer& opt,
                       int64_t steps_per_epoch) {
  Watchers w;
  trainer.add(std::make_shared<train::TerminateOnNonFinite>());
  if (f.monitor) {
    optim::MonitorOptions options;
    options.max_grad_norm = f.max_grad_norm;
    w.monitor = std::make_shared<train::GradientMonitor>("mnist_train", options);
    trainer.add(w.monitor);
  }
  if (auto scheduler = ex::make_scheduler(f, opt, steps_per_epoch)) trainer.add(scheduler);
  trainer.add(std::make_shared<train::ProgressBar>());
  if (!f.metrics.empty()) trainer.add(std::make_shared<train::MetricsLog>(f.metrics));
  if (!f.tensorboard.empty()) trainer.add(std::make_shared<train::TensorBoard>(f.tensorboard));
  w.early = std::make_shared<train::EarlyStopping>(train::EarlyStoppingOptions{
      "test_loss", f.early_stop, f.min_delta, f.restore_best, "mnist_train"});
  trainer.add(w.early);
  if (!f.checkpoint.empty()) trainer.add(std::make_shared<train::ModelCheckpoint>(f.checkpoint));
  if (f.stop_after > 0) trainer.add(std::make_shared<StopAfter>(f.stop_after));
  return w;
}

void print_summary(const ex::Flags& f, const train::Trainer& trainer, const Watchers& w,
                   const ex::Result& last, const std::string& dataset, const Device& device,
                   int epochs_run, int world) {
  std::printf("%s\n", train::json_object(
                          {{"test_accuracy", json_number(last.accuracy)},
                           {"test_loss", json_number(last.loss)},
                           {"train_seconds", json_number(trainer.seconds(), "%.2f")},
                           {"epochs", std::to_string(epochs_run)},
                           {"early_stopped", w.early->stopped() ? "true" : "false"},
                           {"alarms", std::to_string(w.monitor ? w.monitor->alarms().size() : 0)},
                           {"stopped_by", json_string(w.monitor ? w.monitor->stopped_by() : "")},
                           {"best_epoch", std::to_string(w.early->tracker().best_epoch())},
                           {"device", json_string(device.str())},
                           {"model", json_string(f.model)},
                           {"optimizer", json_string(f.optimizer)},
                           {"precision", json_string(f.precision)},
                           {"schedule", json_string(f.schedule)},
                           {"dataset", json_string(dataset)},
                           {"seed", std::to_string(f.seed)},
                           {"world_size", std::to_string(world)},
                           {"threads", std::to_string(tg::get_num_threads())}})
                          .c_str());
}

int train_model(const ex::Flags& f) {
  Device device = ex::pick_device(f.device);
  ex::check_output_paths(f);  // before anything takes time
  ex::apply_cpu_flags(f);
  const ex::DistributedRun dist = ex::DistributedRun::start(f.distributed, f.dist_timeout, device);
  ex::MnistLoaders loaders = ex::make_loaders(f, device, f.seed, dist.rank, dist.world);
  const ex::Setup setup = ex::make_setup(f, device);  // model, optimizer (mnist_recipe.h)
  if (f.evaluate) return ex::report_evaluation(f, *setup.model, *loaders.test, device);
  std::unique_ptr<distributed::DataParallel> parallel;
  if (dist.group) {
    parallel = std::make_unique<distributed::DataParallel>(
        dist.group, *setup.opt, setup.model->named_buffers(), ex::data_parallel_options(f));
    dist.decorrelate_generators(device);
  }
  train::Trainer trainer(*setup.model, *setup.opt, train::cross_entropy_loss(),
                         ex::trainer_options(f));
  if (parallel) trainer.set_data_parallel(parallel.get(), dist.rank, dist.world);
  const int64_t steps = (loaders.train->batches() + f.accumulate - 1) / f.accumulate;
  const Watchers w = add_callbacks(trainer, f, *setup.opt, steps);
  const Metadata configuration =
      ex::run_configuration(f, loaders.dataset, loaders.inputs, dist.world);
  trainer.state().checkpoint_metadata = configuration;
  ex::print_header(f, *setup.model, *setup.opt, loaders, device);
  if (!f.resume.empty()) {
    trainer.resume(f.resume, *loaders.train, [&](const Metadata& saved) {
      ex::check_resume_configuration(f.resume, saved, configuration, f.schedule);
    });
    dist.decorrelate_generators(device);
    std::printf("mnist_train: resumed from %s after epoch %d\n", f.resume.c_str(),
                trainer.start_epoch());
  }
  const train::TrainState& state = trainer.fit(*loaders.train, loaders.test.get());
  if (w.monitor && w.monitor->stop_requested())
    std::printf("mnist_train: stopped in epoch %d by a %s alarm (see stderr)\n", state.epoch,
                w.monitor->stopped_by().c_str());
  // The last epoch's test numbers, or new ones when there are none (a finished run resumed)
  // or the best epoch's weights came back.
  ex::Result last{state.logs.has("test_loss") ? state.logs.get("test_loss") : 0,
                  state.logs.has("test_accuracy") ? state.logs.get("test_accuracy") : 0};
  if (w.early->restored() || !state.logs.has("test_loss")) {
    const train::ClassificationMetrics m = trainer.evaluate(*loaders.test);
    last = {m.loss(), m.accuracy()};
  }
  if (w.early->restored())
    std::printf("mnist_train: restored the weights of epoch %d: test loss %.4f, accuracy %.4f\n",
                w.early->tracker().best_epoch(), last.loss, last.accuracy);
  // Every rank must hold the same bits (Note [bitwise-equal all-reduce]); a rank that does
  // not is a bug, and the run fails saying so.
  if (parallel) {
    const bool agree = parallel->parameters_agree();
    std::printf("mnist_train: parameters bitwise equal on all %d processes: %s\n", dist.world,
                agree ? "yes" : "NO");
    TG_CHECK(agree, "the ranks' parameters differ after training");
  }
  if (!f.save_model.empty() && dist.primary()) train::save_weights(*setup.model, f.save_model);
  print_summary(f, trainer, w, last, loaders.dataset, device, state.epoch, dist.world);
  // A run stopped on non-finite gradients failed, as one whose loss went non-finite does.
  return w.monitor && w.monitor->stopped_by() == "non_finite" ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  tg::use_openmp_spin_policy(argv);  // Note [OpenMP wait policy] in core/threads.h
  ex::Flags f;
  if (const int code = ex::parse_flags(argc, argv, f); code >= 0) return code;
  // A failed rank ends the whole job (distributed::finish aborts it) instead of leaving the
  // others waiting in a collective.
  return distributed::finish(
      ex::run_reporting_errors("mnist_train", [&] { return train_model(f); }));
}
