// grad_explosion: a deep plain network that blows up, and what tames it. A --depth-layer
// ReLU MLP (784 -> width x (depth - 1) -> 10) with a naive initialisation (every weight
// N(0, --naive-std²), biases 0), no normalisation and no clipping, trained with SGD on
// MNIST-format data, explodes: its gradient norms grow layer by layer towards the input,
// the loss runs away and turns NaN, and the gradient monitor (optim/monitor.h) names the
// layer. Then the same run with one remedy each: He or orthogonal initialisation,
// BatchNorm, global-norm clipping, Leaky ReLU, a lower learning rate, and gradient
// accumulation (K batches per step).
//
// It prints the per-layer gradient norms at chosen steps for chosen runs, and a summary
// (remedy, final loss, test accuracy, first alarm); writes the curves (loss, global and
// per-layer gradient norms per step) as JSON Lines (--jsonl) and as an SVG chart (--svg,
// log-scale y: loss and gradient norm per remedy, per-layer norms of chosen runs). The last
// line of stdout is one JSON object.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../tamegrad.h"
#include "common/flags.h"
#include "common/svg_chart.h"
#include "mnist_recipe.h"

namespace {

using namespace tg;
using train::json_number;
using train::json_string;

struct Options {
  tg::examples::Flags recipe;  // data, limit, batch, seed, threads, device
  int depth = 20, width = 256, steps = 300;
  double lr = 0.01, momentum = 0.9, naive_std = 0.1, clip = 1.0, leaky_slope = 0.2;
  int accumulate = 4;
  std::string remedies = "naive,he,orthogonal,batchnorm,clip,leaky_relu,lower_lr,accumulate";
  std::string tables = "naive,he";  // runs whose per-layer table is printed
  std::string table_steps = "0,1,2,3,10,50,100,200,299";
  std::string jsonl = "grad_explosion.jsonl", svg = "grad_explosion.svg";
};

struct Remedy {
  std::string name, description;
};

const std::vector<Remedy>& all_remedies() {
  static const std::vector<Remedy> remedies = {
      {"naive", "naive N(0, std^2) init, ReLU, no normalisation, no clipping"},
      {"he", "He (Kaiming) normal initialisation"},
      {"orthogonal", "orthogonal initialisation, gain sqrt(2)"},
      {"batchnorm", "BatchNorm1d after every hidden Linear"},
      {"clip", "global-norm clipping"},
      {"leaky_relu", "Leaky ReLU"},
      {"lower_lr", "learning rate / 10"},
      {"accumulate", "gradient accumulation over K batches per step"}};
  return remedies;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::shared_ptr<layers::Sequential> make_net(const Options& o, const std::string& remedy) {
  using namespace tg::layers;
  using namespace tg::layers::init;
  auto net = make<Sequential>();
  net->push_back(make<Flatten>());
  int64_t in = 784;
  for (int layer = 1; layer <= o.depth; ++layer) {
    const int64_t out = layer == o.depth ? 10 : o.width;
    auto linear = make<Linear>(in, out);
    if (remedy == "he") {
      kaiming_normal_(linear->weight);
    } else if (remedy == "orthogonal") {
      orthogonal_(linear->weight, std::sqrt(2.0));
    } else {
      normal_(linear->weight, 0.0, o.naive_std);
    }
    constant_(linear->bias, 0.0);
    net->push_back(linear);
    if (layer == o.depth) break;
    if (remedy == "batchnorm") net->push_back(make<BatchNorm1d>(out));
    if (remedy == "leaky_relu") {
      net->push_back(make<LeakyReLU>(o.leaky_slope));
    } else {
      net->push_back(make<ReLU>());
    }
    in = out;
  }
  return net;
}

struct RunResult {
  std::string remedy;
  std::vector<double> loss, grad_norm;           // per step
  std::vector<std::vector<double>> layer_norms;  // per step, per weight tensor
  std::vector<std::string> layers;               // the weight tensors' names
  double final_loss = 0, accuracy = 0;
  int steps = 0;
  std::string first_alarm = "-";
};

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

// One run of the Trainer; the loaders are shared by every run (each starts again at epoch 1,
// whose order depends on the seed alone, so every run sees the same batches).
RunResult train_one(const Options& o, const std::string& remedy, const Device& device,
                    tg::examples::MnistLoaders& loaders, std::ofstream& jsonl) {
  manual_seed(o.recipe.seed);
  std::shared_ptr<layers::Sequential> net = make_net(o, remedy);
  net->to(device);
  optim::SGDParams hyper;
  hyper.lr = remedy == "lower_lr" ? o.lr / 10 : o.lr;
  hyper.momentum = o.momentum;
  optim::SGD opt(net->parameters(), hyper);
  train::TrainerOptions options;
  options.accumulate = remedy == "accumulate" ? o.accumulate : 1;
  options.clip_norm = remedy == "clip" ? o.clip : 0;
  options.epochs = 1 + static_cast<int>(o.steps * options.accumulate / loaders.train->batches());
  train::Trainer trainer(*net, opt, train::cross_entropy_loss(), options);
  // Non-finite stops the run; the rest is logged.
  auto watch = std::make_shared<train::GradientMonitor>("grad_explosion", optim::MonitorOptions{},
                                                        /*keep_records=*/true);
  auto steps = std::make_shared<StepLosses>(o.steps);
  trainer.add(watch).add(steps);
  trainer.fit(*loaders.train);
  watch->drain();

  RunResult r;
  r.remedy = remedy;
  r.loss = steps->losses;
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
  r.accuracy = train::evaluate(*net, *loaders.test).accuracy();
  return r;
}

void print_layer_table(const Options& o, const RunResult& r) {
  std::vector<int> steps;
  for (const std::string& s : split(o.table_steps)) {
    const int step = std::stoi(s);
    if (step >= 0 && step < static_cast<int>(r.layer_norms.size())) steps.push_back(step);
  }
  std::printf("\nper-layer gradient norm, %s (rows: weight tensors from input to output)\n",
              r.remedy.c_str());
  std::printf("%-12s", "layer");
  for (int step : steps) std::printf(" %10s", ("step " + std::to_string(step)).c_str());
  std::printf("\n");
  for (size_t l = 0; l < r.layers.size(); ++l) {
    std::printf("%-12s", r.layers[l].c_str());
    for (int step : steps) std::printf(" %10.3g", r.layer_norms[step][l]);
    std::printf("\n");
  }
}

int run(const Options& o) {
  const Device device = tg::examples::pick_device(o.recipe.device);
  if (o.recipe.threads > 0) omp_set_num_threads(o.recipe.threads);
  std::vector<std::string> remedies = split(o.remedies);
  for (const std::string& name : remedies) {
    bool known = false;
    for (const Remedy& r : all_remedies()) known = known || r.name == name;
    if (!known) throw tg::examples::FlagError("--remedies: unknown remedy '" + name + "'");
  }
  std::ofstream jsonl(o.jsonl);
  if (!jsonl) throw tg::examples::FlagError("--jsonl " + o.jsonl + ": cannot open it for writing");
  std::printf(
      "grad_explosion: %d-layer ReLU MLP (width %d), SGD lr %g momentum %g, batch %lld, "
      "%d steps, on %s\n",
      o.depth, o.width, o.lr, o.momentum, static_cast<long long>(o.recipe.batch), o.steps,
      device.str().c_str());
  tg::examples::MnistLoaders loaders = tg::examples::make_loaders(o.recipe, device, o.recipe.seed);
  std::vector<RunResult> results;
  for (const std::string& remedy : remedies) {
    results.push_back(train_one(o, remedy, device, loaders, jsonl));
    const RunResult& r = results.back();
    std::printf("%-11s %4d steps, final loss %-10.4g accuracy %.4f, first alarm: %s\n",
                remedy.c_str(), r.steps, r.final_loss, r.accuracy, r.first_alarm.c_str());
    std::fflush(stdout);
  }
  for (const RunResult& r : results) {
    for (const std::string& t : split(o.tables)) {
      if (t == r.remedy) print_layer_table(o, r);
    }
  }
  std::printf(
      "\n| remedy | what changes | steps | final loss | test accuracy | first alarm |\n"
      "|---|---|---|---|---|---|\n");
  for (const RunResult& r : results) {
    std::string what;
    for (const Remedy& m : all_remedies()) {
      if (m.name == r.remedy) what = m.description;
    }
    char loss[32] = "diverged";
    if (std::isfinite(r.final_loss)) std::snprintf(loss, sizeof loss, "%.4g", r.final_loss);
    std::printf("| %s | %s | %d | %s | %.4f | %s |\n", r.remedy.c_str(), what.c_str(), r.steps,
                loss, r.accuracy, r.first_alarm.c_str());
  }

  std::vector<tg::examples::ChartPanel> panels(2);
  panels[0] = {"training loss per step", "step", "cross-entropy (log scale)", {}};
  panels[1] = {"global gradient norm per step", "step", "L2 norm (log scale)", {}};
  for (const RunResult& r : results) {
    std::vector<double> steps(r.loss.size());
    for (size_t i = 0; i < steps.size(); ++i) steps[i] = static_cast<double>(i);
    panels[0].series.push_back({r.remedy, steps, r.loss, ""});
    panels[1].series.push_back({r.remedy, steps, r.grad_norm, ""});
  }
  for (const RunResult& r : results) {
    bool wanted = false;
    for (const std::string& t : split(o.tables)) wanted = wanted || t == r.remedy;
    if (!wanted) continue;
    tg::examples::ChartPanel panel{
        "per-layer gradient norm: " + r.remedy, "step", "L2 norm (log scale)", {}};
    for (size_t l = 0; l < r.layers.size(); ++l) {
      tg::examples::ChartSeries s{r.layers[l], {}, {}, ""};
      for (size_t step = 0; step < r.layer_norms.size(); ++step) {
        s.x.push_back(static_cast<double>(step));
        s.y.push_back(r.layer_norms[step][l]);
      }
      s.color = tg::examples::gradient_color(static_cast<double>(l) /
                                             std::max<size_t>(1, r.layers.size() - 1));
      panel.series.push_back(s);
    }
    panels.push_back(panel);
  }
  std::ofstream svg(o.svg);
  if (!svg) throw tg::examples::FlagError("--svg " + o.svg + ": cannot open it for writing");
  svg << tg::examples::svg_line_chart(panels);
  svg.close();
  std::printf("\ncurves: %s, chart: %s\n", o.jsonl.c_str(), o.svg.c_str());
  std::string summary = "{\"runs\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const RunResult& r = results[i];
    summary += (i ? ", " : "") + train::json_object({{"remedy", json_string(r.remedy)},
                                                     {"steps", std::to_string(r.steps)},
                                                     {"final_loss", json_number(r.final_loss)},
                                                     {"test_accuracy", json_number(r.accuracy)},
                                                     {"first_alarm", json_string(r.first_alarm)}});
  }
  std::printf("%s], \"device\": %s}\n", summary.c_str(), json_string(device.str()).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.recipe.batch = 64;
  o.recipe.limit = 20000;
  CLI::App app{"grad_explosion: a deep plain network that explodes, and the remedies"};
  app.add_option("--depth", o.depth, "Linear layers")
      ->check(CLI::Range(2, 200))
      ->capture_default_str();
  app.add_option("--width", o.width, "hidden units")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--steps", o.steps, "optimizer steps per run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--lr", o.lr, "SGD learning rate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--momentum", o.momentum, "SGD momentum")
      ->check(CLI::Range(0.0, 0.999))
      ->capture_default_str();
  app.add_option("--naive-std", o.naive_std, "std of the naive initialisation")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--clip", o.clip, "max global norm of the clip remedy")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--accumulate", o.accumulate, "batches per step of the accumulate remedy")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--remedies", o.remedies, "runs, comma-separated")->capture_default_str();
  app.add_option("--tables", o.tables,
                 "runs whose per-layer gradient-norm table is printed and charted")
      ->capture_default_str();
  app.add_option("--table-steps", o.table_steps, "steps of the per-layer table")
      ->capture_default_str();
  app.add_option("--jsonl", o.jsonl, "curves as JSON Lines")->capture_default_str();
  app.add_option("--svg", o.svg, "chart")->capture_default_str();
  app.add_option("--batch", o.recipe.batch, "images per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  tg::examples::add_run_flags(app, o.recipe, "seed of the initialisation and the shuffling");
  if (const int code = tg::examples::parse_command_line(app, argc, argv, "grad_explosion");
      code >= 0)
    return code;
  return tg::examples::run_reporting_errors("grad_explosion", [&] { return run(o); });
}
