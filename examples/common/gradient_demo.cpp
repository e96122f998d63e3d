// The gradient demos' shared runs and reports (gradient_demo.h).
#include "gradient_demo.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "flags.h"
#include "svg_chart.h"

namespace tg::examples {

using train::json_number;
using train::json_string;

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

void check_remedies(const std::vector<std::string>& names, const std::vector<Remedy>& known,
                    const char* flag) {
  for (const std::string& name : names) {
    bool found = false;
    std::string all;
    for (const Remedy& r : known) {
      found = found || r.name == name;
      all += (all.empty() ? "" : ", ") + r.name;
    }
    if (!found)
      throw FlagError(std::string(flag) + ": unknown remedy '" + name + "' (known: " + all + ")");
  }
}

void add_demo_flags(CLI::App& app, DemoFlags& f) {
  app.add_option("--steps", f.steps, "optimizer steps per run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--lr", f.lr, "SGD learning rate")
      ->check(positive_number())
      ->capture_default_str();
  app.add_option("--momentum", f.momentum, "SGD momentum")
      ->check(CLI::Range(0.0, 0.999))
      ->capture_default_str();
  app.add_option("--remedies", f.remedies, "runs, comma-separated")->capture_default_str();
  app.add_option("--tables", f.tables,
                 "runs whose per-layer gradient-norm table is printed and charted")
      ->capture_default_str();
  app.add_option("--table-steps", f.table_steps, "steps of the per-layer table")
      ->capture_default_str();
  app.add_option("--jsonl", f.jsonl, "curves as JSON Lines")->capture_default_str();
  app.add_option("--svg", f.svg, "chart")->capture_default_str();
  app.add_option("--batch", f.recipe.batch, "images per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_run_flags(app, f.recipe, "seed of the initialisation and the shuffling");
}

namespace {

// Each optimizer step's loss (the mean over its batches), read as the steps come, and the
// end of the run after `steps` steps.
struct StepLosses : train::Callback {
  explicit StepLosses(int steps) : steps(steps) {}
  void after_backward(train::TrainState& state) override {
    sum += state.loss.item<double>();
    ++batches;
  }
  void after_step(train::TrainState& state) override {
    losses.push_back(sum / batches);
    sum = 0;
    batches = 0;
    if (state.step >= steps) state.stop_now = true;
  }
  int steps;
  double sum = 0;
  int batches = 0;
  std::vector<double> losses;
};

}  // namespace

RunResult record_run(const char* program, const std::string& remedy, DemoRun run, int steps,
                     MnistLoaders& loaders, std::ofstream& jsonl,
                     const optim::MonitorOptions& monitor) {
  run.options.epochs =
      1 + static_cast<int>(steps * run.options.accumulate / loaders.train->batches());
  train::Trainer trainer(*run.net, *run.opt, train::cross_entropy_loss(), run.options);
  auto watch = std::make_shared<train::GradientMonitor>(program, monitor, /*keep_records=*/true);
  auto losses = std::make_shared<StepLosses>(steps);
  trainer.add(watch).add(losses);
  trainer.fit(*loaders.train);
  watch->drain();

  RunResult r;
  r.remedy = remedy;
  r.loss = losses->losses;
  r.steps = static_cast<int>(r.loss.size());
  for (const optim::GradientStats& s : watch->records()) {
    std::vector<double> norms;
    r.layers.clear();
    for (const optim::TensorStats& t : s.tensors) {
      if (t.dim < 2) continue;
      norms.push_back(t.grad_norm);
      r.layers.push_back(t.name);
    }
    r.grad_norm.push_back(s.grad_norm);
    r.layer_norms.push_back(norms);
  }
  r.first_to_last = r.layer_norms.empty() || r.layer_norms[0].size() < 2
                        ? std::nan("")
                        : r.layer_norms[0].front() / r.layer_norms[0].back();
  for (size_t step = 0; step < std::min(r.loss.size(), r.layer_norms.size()); ++step) {
    std::string layers = "[";
    for (size_t l = 0; l < r.layer_norms[step].size(); ++l)
      layers += (l ? ", " : "") + json_number(r.layer_norms[step][l]);
    jsonl << train::json_object({{"remedy", json_string(remedy)},
                                 {"step", std::to_string(step)},
                                 {"loss", json_number(r.loss[step])},
                                 {"grad_norm", json_number(r.grad_norm[step])},
                                 {"layer_grad_norms", layers + "]"}})
          << "\n";
  }
  // The final loss: the mean of the last 10 steps' (NaN when the run went non-finite).
  const size_t tail = std::min<size_t>(10, r.loss.size());
  for (size_t i = r.loss.size() - tail; i < r.loss.size(); ++i) r.final_loss += r.loss[i] / tail;
  if (!watch->alarms().empty()) {
    const optim::Alarm& a = watch->alarms().front();
    r.first_alarm = std::string(optim::alarm_kind_name(a.kind)) + " @" + std::to_string(a.step) +
                    " " + a.tensor;
  }
  r.accuracy = train::evaluate(*run.net, *loaders.test).accuracy();
  return r;
}

int run_demo(const char* program, const std::string& headline, const DemoFlags& f,
             const std::vector<Remedy>& remedies, const DemoSetup& setup) {
  const Device device = pick_device(f.recipe.device);
  apply_cpu_flags(f.recipe);
  const std::vector<std::string> names = split_list(f.remedies);
  check_remedies(names, remedies);
  check_remedies(split_list(f.tables), remedies, "--tables");
  std::ofstream jsonl(f.jsonl);
  if (!jsonl) throw FlagError("--jsonl " + f.jsonl + ": cannot open it for writing");
  std::printf("%s: %s, SGD lr %g momentum %g, batch %lld, %d steps, on %s\n", program,
              headline.c_str(), f.lr, f.momentum, static_cast<long long>(f.recipe.batch), f.steps,
              device.str().c_str());
  MnistLoaders loaders = make_loaders(f.recipe, device, f.recipe.seed);
  std::vector<RunResult> results;
  for (const std::string& remedy : names) {
    manual_seed(f.recipe.seed);  // every run's weights from the same seed
    results.push_back(record_run(program, remedy, setup(remedy, device), f.steps, loaders, jsonl));
    const RunResult& r = results.back();
    std::printf("%-16s %4d steps, final loss %-10.4g accuracy %.4f, first alarm: %s\n",
                remedy.c_str(), r.steps, r.final_loss, r.accuracy, r.first_alarm.c_str());
    std::fflush(stdout);
  }
  report(results, remedies, f.tables, f.table_steps, f.jsonl, f.svg, device);
  return 0;
}

void print_layer_table(const std::string& table_steps, const RunResult& r) {
  std::vector<int> steps;
  for (const std::string& s : split_list(table_steps)) {
    const int step = std::stoi(s);
    if (step >= 0 && step < static_cast<int>(r.layer_norms.size())) steps.push_back(step);
  }
  std::printf("\nper-layer gradient norm, %s (rows: weight tensors from input to output)\n",
              r.remedy.c_str());
  std::printf("%-18s", "layer");
  for (int step : steps) std::printf(" %10s", ("step " + std::to_string(step)).c_str());
  std::printf("\n");
  for (size_t l = 0; l < r.layers.size(); ++l) {
    std::printf("%-18s", r.layers[l].c_str());
    for (int step : steps) std::printf(" %10.3g", r.layer_norms[step][l]);
    std::printf("\n");
  }
}

namespace {

bool listed(const std::string& list, const std::string& name) {
  for (const std::string& t : split_list(list)) {
    if (t == name) return true;
  }
  return false;
}

std::vector<ChartPanel> chart(const std::vector<RunResult>& results, const std::string& tables) {
  std::vector<ChartPanel> panels(2);
  panels[0] = {"training loss per step", "step", "cross-entropy (log scale)", {}};
  panels[1] = {"global gradient norm per step", "step", "L2 norm (log scale)", {}};
  for (const RunResult& r : results) {
    std::vector<double> steps(r.loss.size());
    for (size_t i = 0; i < steps.size(); ++i) steps[i] = static_cast<double>(i);
    panels[0].series.push_back({r.remedy, steps, r.loss, ""});
    panels[1].series.push_back({r.remedy, steps, r.grad_norm, ""});
  }
  for (const RunResult& r : results) {
    if (!listed(tables, r.remedy)) continue;
    ChartPanel panel{"per-layer gradient norm: " + r.remedy, "step", "L2 norm (log scale)", {}};
    for (size_t l = 0; l < r.layers.size(); ++l) {
      ChartSeries s{r.layers[l], {}, {}, ""};
      for (size_t step = 0; step < r.layer_norms.size(); ++step) {
        s.x.push_back(static_cast<double>(step));
        s.y.push_back(r.layer_norms[step][l]);
      }
      s.color = gradient_color(static_cast<double>(l) / std::max<size_t>(1, r.layers.size() - 1));
      panel.series.push_back(s);
    }
    panels.push_back(panel);
  }
  return panels;
}

}  // namespace

void report(const std::vector<RunResult>& results, const std::vector<Remedy>& remedies,
            const std::string& tables, const std::string& table_steps, const std::string& jsonl,
            const std::string& svg, const Device& device) {
  for (const RunResult& r : results) {
    if (listed(tables, r.remedy)) print_layer_table(table_steps, r);
  }
  std::printf(
      "\n| remedy | what changes | steps | final loss | test accuracy | first alarm | "
      "first/last layer gradient, step 0 |\n"
      "|---|---|---|---|---|---|---|\n");
  for (const RunResult& r : results) {
    std::string what;
    for (const Remedy& m : remedies) {
      if (m.name == r.remedy) what = m.description;
    }
    char loss[32] = "diverged";
    if (std::isfinite(r.final_loss)) std::snprintf(loss, sizeof loss, "%.4g", r.final_loss);
    std::printf("| %s | %s | %d | %s | %.4f | %s | %.3g |\n", r.remedy.c_str(), what.c_str(),
                r.steps, loss, r.accuracy, r.first_alarm.c_str(), r.first_to_last);
  }
  std::ofstream out(svg);
  if (!out) throw FlagError("--svg " + svg + ": cannot open it for writing");
  out << svg_line_chart(chart(results, tables));
  out.close();
  std::printf("\ncurves: %s, chart: %s\n", jsonl.c_str(), svg.c_str());
  std::string summary = "{\"runs\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const RunResult& r = results[i];
    summary +=
        (i ? ", " : "") + train::json_object({{"remedy", json_string(r.remedy)},
                                              {"steps", std::to_string(r.steps)},
                                              {"final_loss", json_number(r.final_loss)},
                                              {"test_accuracy", json_number(r.accuracy)},
                                              {"first_alarm", json_string(r.first_alarm)},
                                              {"first_to_last", json_number(r.first_to_last)}});
  }
  std::printf("%s], \"device\": %s}\n", summary.c_str(), json_string(device.str()).c_str());
}

}  // namespace tg::examples
