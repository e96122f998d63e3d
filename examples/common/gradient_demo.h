// What grad_explosion and grad_vanish share: a run per remedy through the library's Trainer
// with the gradient monitor recording every step (loss, global and per-layer gradient
// norms, the first alarm), the curves as JSON Lines, the per-layer table, the summary table
// in Markdown, the SVG chart and the one-line JSON summary that ends stdout.
#pragma once

#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../../tamegrad.h"
#include "../mnist_recipe.h"

namespace CLI {
class App;
}  // namespace CLI

namespace tg::examples {

struct Remedy {
  std::string name, description;
};

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& list);
// Throws FlagError("<flag>: unknown remedy 'x' (known: ...)") for a name not in `known`.
void check_remedies(const std::vector<std::string>& names, const std::vector<Remedy>& known,
                    const char* flag = "--remedies");

// The flags both demos take: the runs, the steps and SGD's rate and momentum, what is printed
// and written, and the data's (add_run_flags).
struct DemoFlags {
  Flags recipe;  // data, limit, batch, seed, threads, device
  int steps = 300;
  double lr = 0.01, momentum = 0.9;
  std::string remedies, tables, table_steps;  // defaults: the program's
  std::string jsonl, svg;
};
void add_demo_flags(CLI::App& app, DemoFlags& f);

// One remedy's run: its network (on the device), optimizer and Trainer options (epochs are
// set by record_run from the steps).
struct DemoRun {
  std::shared_ptr<layers::Module> net;
  std::unique_ptr<optim::Optimizer> opt;
  train::TrainerOptions options{};
};

struct RunResult {
  std::string remedy;
  std::vector<double> loss, grad_norm;           // per step
  std::vector<std::vector<double>> layer_norms;  // per step, per weight tensor (dim >= 2)
  std::vector<std::string> layers;               // the weight tensors' names, input first
  double final_loss = 0, accuracy = 0;
  int steps = 0;
  std::string first_alarm = "-";
  // The first weight tensor's gradient norm over the last one's at step 0 (NaN if none).
  double first_to_last = 0;
};

// Trains `run` for `steps` optimizer steps over `loaders.train` (every run sees the same
// batches: the loaders start again at epoch 1), the monitor logging its alarms as
// "<program>: alarm: ..." on stderr (a non-finite one ends the run); appends each step to
// `jsonl`; evaluates on `loaders.test`.
RunResult record_run(const char* program, const std::string& remedy, DemoRun run, int steps,
                     MnistLoaders& loaders, std::ofstream& jsonl,
                     const optim::MonitorOptions& monitor = {});

// Runs every remedy of f.remedies (each one's network, optimizer and options from `setup`),
// printing `headline` first and a line per run as it ends, then the report. Returns 0.
using DemoSetup = std::function<DemoRun(const std::string& remedy, const Device& device)>;
int run_demo(const char* program, const std::string& headline, const DemoFlags& f,
             const std::vector<Remedy>& remedies, const DemoSetup& setup);

// The per-layer gradient norms of `r` at the steps listed in `table_steps` ("0,1,10").
void print_layer_table(const std::string& table_steps, const RunResult& r);

// The Markdown table of every run, the chart (loss and global norm per run, per-layer norms
// of the runs in `tables`) written to `svg`, and the JSON summary line.
void report(const std::vector<RunResult>& results, const std::vector<Remedy>& remedies,
            const std::string& tables, const std::string& table_steps, const std::string& jsonl,
            const std::string& svg, const Device& device);

}  // namespace tg::examples
