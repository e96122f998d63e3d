// rnn_gradients: exploding and vanishing gradients through time, and what tames them.
//
// The adding problem (Hochreiter & Schmidhuber 1997; Pascanu, Mikolov & Bengio 2013, "On
// the difficulty of training recurrent neural networks"): each sequence has --seq-len steps
// of two inputs, a value drawn from U(0, 1) and a marker that is 1 at exactly two steps (one
// in the first half, one in the second) and 0 elsewhere; the target is the sum of the two
// marked values. Predicting the mean (1) scores MSE 1/6 ≈ 0.167; a model solves the task only
// by carrying the first marked value across up to --seq-len steps, which needs the gradient
// to flow that far back.
//
// Runs, each from the same data and seed (--runs picks some):
//   rnn        tanh RNN, PyTorch's initialisation, SGD: ‖∂L/∂h_t‖ shrinks step after step
//              back from the end (the gradient vanishes), and the model learns only the mean;
//   rnn_large  tanh RNN with W_hh orthogonal × --gain (spectral radius > 1), SGD: ‖∂L/∂h_t‖
//              grows back through time, the global norm explodes and SGD diverges;
//   rnn_clip   the same with gradient-norm clipping at --clip (Pascanu et al.'s remedy for
//              explosion): it trains on, but clipping does nothing for the vanishing part;
//   rnn_adam   the first run under Adam: an optimizer that rescales steps does not bring
//              back a gradient that is not there;
//   lstm, gru  gated cells with PyTorch's initialisation, Adam: their gradients vanish at
//              the start too, but the gates learn to keep the additive path open, the
//              gradient reaches the first step, and they solve the task.
// SGD (--sgd-lr, --momentum) as in Pascanu et al.; Adam (--adam-lr) where SGD does not
// train gated cells in this many steps. Batches are drawn afresh each step, the same for
// every run.
//
// The telemetry is per time step: a hook on every step's hidden state (RecurrentOutput's
// steps, Tensor::register_hook) records ‖∂L/∂h_t‖ at step 0 and every --profile-every steps.
// Printed: the profile at step 0 of each run, a Markdown summary (test MSE, share of test
// sequences within 0.04 of the target, ‖∂L/∂h_1‖/‖∂L/∂h_T‖ at the start and end, the
// largest global gradient norm), the curves as JSON Lines (--jsonl), an SVG chart (--svg)
// and, last on stdout, one JSON object.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "../tamegrad.h"
#include "../train/json.h"
#include "common/flags.h"
#include "common/gradient_demo.h"
#include "common/svg_chart.h"
#include "mnist_recipe.h"

namespace {

using namespace tg;
using train::json_number;
using train::json_string;

struct Options {
  int64_t seq_len = 50, hidden = 64, batch = 64, test_size = 1000;
  int steps = 2000, profile_every = 250;
  double sgd_lr = 0.05, momentum = 0.9, adam_lr = 3e-3, clip = 1.0, gain = 1.5;
  uint64_t seed = 0;
  int threads = 0;
  std::string device = "auto";
  std::string runs = "rnn,rnn_large,rnn_clip,rnn_adam,lstm,gru";
  std::string jsonl = "rnn_gradients.jsonl", svg = "rnn_gradients.svg";
};

const std::vector<tg::examples::Remedy>& all_runs() {
  static const std::vector<tg::examples::Remedy> runs = {
      {"rnn", "tanh RNN, PyTorch's init; SGD"},
      {"rnn_large", "tanh RNN, W_hh orthogonal x gain; SGD"},
      {"rnn_clip", "rnn_large with gradient-norm clipping; SGD"},
      {"rnn_adam", "tanh RNN, PyTorch's init; Adam"},
      {"lstm", "LSTM, PyTorch's init; Adam"},
      {"gru", "GRU, PyTorch's init; Adam"}};
  return runs;
}

// A batch of the adding problem: x (T, B, 2), target (B, 1); drawn from `generator`.
struct Batch {
  Tensor x, target;
};
Batch adding_batch(int64_t steps, int64_t batch, Generator& generator, const Device& device) {
  const Tensor values = rand({steps, batch}, DType::Float32, &generator);
  const Tensor picks = rand({2, batch}, DType::Float32, &generator);
  Tensor x = zeros({steps, batch, 2});
  Tensor target = zeros({batch, 1});
  const float* v = values.data_ptr<float>();
  const float* u = picks.data_ptr<float>();
  float* xs = x.data_ptr<float>();
  float* ts = target.data_ptr<float>();
  const int64_t half = steps / 2;
  for (int64_t b = 0; b < batch; ++b) {
    // One marker in the first half, one in the second.
    const int64_t first = std::min<int64_t>(half - 1, static_cast<int64_t>(u[b] * half));
    const int64_t second =
        half +
        std::min<int64_t>(steps - half - 1, static_cast<int64_t>(u[batch + b] * (steps - half)));
    for (int64_t t = 0; t < steps; ++t) {
      xs[(t * batch + b) * 2] = v[t * batch + b];
      xs[(t * batch + b) * 2 + 1] = (t == first || t == second) ? 1.0f : 0.0f;
    }
    ts[b] = v[first * batch + b] + v[second * batch + b];
  }
  return Batch{x.to(device), target.to(device)};
}

// A recurrent layer and a linear read-out of its last hidden state.
struct Model {
  std::shared_ptr<layers::RecurrentBase> rnn;
  std::shared_ptr<layers::Linear> head;
  std::vector<Tensor> parameters() const {
    std::vector<Tensor> p = rnn->parameters();
    for (const Tensor& t : head->parameters()) p.push_back(t);
    return p;
  }
  layers::RecurrentOutput run(const Tensor& x) const {
    if (auto* lstm = dynamic_cast<layers::LSTM*>(rnn.get())) return lstm->forward(x, {}, {});
    if (auto* gru = dynamic_cast<layers::GRU*>(rnn.get())) return gru->forward(x, {});
    return dynamic_cast<layers::RNN&>(*rnn).forward(x, {});
  }
};

Model make_model(const Options& o, const std::string& name, const Device& device) {
  Model m;
  if (name == "lstm") {
    m.rnn = std::make_shared<layers::LSTM>(2, o.hidden);
  } else if (name == "gru") {
    m.rnn = std::make_shared<layers::GRU>(2, o.hidden);
  } else {
    m.rnn = std::make_shared<layers::RNN>(2, o.hidden);
    if (name == "rnn_large" || name == "rnn_clip")
      layers::init::orthogonal_(m.rnn->weights[0].weight_hh, o.gain);
  }
  m.head = std::make_shared<layers::Linear>(o.hidden, 1);
  m.rnn->to(device);
  m.head->to(device);
  return m;
}

struct RunResult {
  std::string name;
  std::vector<double> loss, grad_norm;                        // per step
  std::vector<std::pair<int, std::vector<double>>> profiles;  // (step, ‖∂L/∂h_t‖ per t)
  double test_mse = NAN, within = 0, max_grad_norm = 0;
  int steps = 0;
  bool diverged = false;
  double ratio(size_t k) const {
    const std::vector<double>& p = profiles[k].second;
    return p.front() / p.back();
  }
};

RunResult train_run(const Options& o, const std::string& name, const Device& device,
                    const Batch& test, std::ofstream& jsonl) {
  manual_seed(o.seed);
  Model model = make_model(o, name, device);
  std::unique_ptr<optim::Optimizer> opt_owner;
  if (name == "rnn" || name == "rnn_large" || name == "rnn_clip") {
    optim::SGDParams hyper;
    hyper.lr = o.sgd_lr;
    hyper.momentum = o.momentum;
    opt_owner = std::make_unique<optim::SGD>(model.parameters(), hyper);
  } else {
    optim::AdamParams hyper;
    hyper.lr = o.adam_lr;
    opt_owner = std::make_unique<optim::Adam>(model.parameters(), hyper);
  }
  optim::Optimizer& opt = *opt_owner;
  Generator data(o.seed + 1);  // the same batches for every run
  RunResult r;
  r.name = name;
  for (int step = 0; step < o.steps; ++step) {
    const Batch batch = adding_batch(o.seq_len, o.batch, data, device);
    const layers::RecurrentOutput out = model.run(batch.x);
    const bool profile = step % o.profile_every == 0 || step + 1 == o.steps;
    std::vector<Tensor> norms(out.steps.size());
    std::vector<HookHandle> hooks;
    if (profile) {
      for (size_t t = 0; t < out.steps.size(); ++t) {
        hooks.push_back(out.steps[t].register_hook([&norms, t](const Tensor& g) {
          norms[t] = norm(g);  // stays on the device until read below
          return Tensor();
        }));
      }
    }
    const Tensor loss = mse_loss(model.head->forward(out.steps.back()), batch.target);
    opt.zero_grad();
    loss.backward();
    const Tensor grad_norm = name == "rnn_clip" ? opt.clip_grad_norm(o.clip) : opt.grad_norm();
    opt.step();
    r.loss.push_back(loss.item<double>());
    r.grad_norm.push_back(grad_norm.item<double>());
    r.max_grad_norm = std::max(r.max_grad_norm, r.grad_norm.back());
    r.steps = step + 1;
    std::string profile_json = "null";
    if (profile) {
      std::vector<double> p;
      for (const Tensor& n : norms) p.push_back(n.defined() ? n.item<double>() : 0.0);
      profile_json = "[";
      for (size_t t = 0; t < p.size(); ++t) profile_json += (t ? ", " : "") + json_number(p[t]);
      profile_json += "]";
      r.profiles.emplace_back(step, std::move(p));
    }
    jsonl << train::json_object({{"run", json_string(name)},
                                 {"step", std::to_string(step)},
                                 {"loss", json_number(r.loss.back())},
                                 {"grad_norm", json_number(r.grad_norm.back())},
                                 {"grad_h", profile_json}})
          << "\n";
    if (!std::isfinite(r.loss.back()) || !std::isfinite(r.grad_norm.back())) {
      r.diverged = true;
      break;
    }
  }
  if (!r.diverged) {
    NoGradGuard no_grad;
    const Tensor pred = model.head->forward(model.run(test.x).steps.back());
    r.test_mse = mse_loss(pred, test.target).item<double>();
    r.within = mean(lt(abs(sub(pred, test.target)), full({}, 0.04, pred.device()))).item<double>();
  }
  std::printf("%-10s %5d steps, final train loss %.4g, test MSE %.4g, within 0.04: %.3f\n",
              name.c_str(), r.steps, r.loss.back(), r.test_mse, r.within);
  std::fflush(stdout);
  return r;
}

void print_profile(const RunResult& r, int64_t seq_len) {
  if (r.profiles.empty()) return;
  const std::vector<double>& p = r.profiles.front().second;
  std::printf("\n%s: ||dL/dh_t|| at step 0 (t = 1 is the first input)\n", r.name.c_str());
  for (int64_t t = 0; t < seq_len; t += std::max<int64_t>(1, seq_len / 10)) {
    std::printf("  t = %3lld  %.3e\n", static_cast<long long>(t + 1), p[static_cast<size_t>(t)]);
  }
  std::printf("  t = %3lld  %.3e\n", static_cast<long long>(seq_len), p.back());
}

std::vector<tg::examples::ChartPanel> chart(const std::vector<RunResult>& results) {
  tg::examples::ChartPanel loss{
      "training loss (MSE; 0.167 = predicting the mean)", "training step", "loss", {}};
  tg::examples::ChartPanel norm{
      "global gradient norm (before clipping)", "training step", "norm", {}};
  tg::examples::ChartPanel profile{
      "||dL/dh_t|| through time at step 0", "time step t", "gradient norm", {}};
  tg::examples::ChartPanel trained{
      "||dL/dh_t|| through time at the last step", "time step t", "gradient norm", {}};
  for (const RunResult& r : results) {
    tg::examples::ChartSeries l{r.name, {}, r.loss, ""}, n{r.name, {}, r.grad_norm, ""};
    for (size_t s = 0; s < r.loss.size(); ++s) {
      l.x.push_back(static_cast<double>(s));
      n.x.push_back(static_cast<double>(s));
    }
    loss.series.push_back(l);
    norm.series.push_back(n);
    auto profile_series = [&](const std::vector<double>& y) {
      tg::examples::ChartSeries p{r.name, {}, y, ""};
      for (size_t t = 0; t < p.y.size(); ++t) p.x.push_back(static_cast<double>(t + 1));
      return p;
    };
    profile.series.push_back(profile_series(r.profiles.front().second));
    if (!r.diverged) trained.series.push_back(profile_series(r.profiles.back().second));
  }
  return {profile, trained, loss, norm};
}

void report(const Options& o, const std::vector<RunResult>& results, const Device& device) {
  for (const RunResult& r : results) print_profile(r, o.seq_len);
  std::printf(
      "\n| run | what | steps | test MSE | within 0.04 | dL/dh_1 / dL/dh_T, step 0 | same, "
      "last step | max gradient norm |\n|---|---|---|---|---|---|---|---|\n");
  std::string summary = "{\"runs\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const RunResult& r = results[i];
    std::string what;
    for (const auto& run : all_runs()) {
      if (run.name == r.name) what = run.description;
    }
    char mse[32] = "diverged";
    if (!r.diverged) std::snprintf(mse, sizeof mse, "%.4f", r.test_mse);
    const double first = r.ratio(0);
    const double last = r.diverged ? NAN : r.ratio(r.profiles.size() - 1);
    char last_text[32] = "-";
    if (!r.diverged) std::snprintf(last_text, sizeof last_text, "%.3g", last);
    std::printf("| %s | %s | %d | %s | %.3f | %.3g | %s | %.3g |\n", r.name.c_str(), what.c_str(),
                r.steps, mse, r.within, first, last_text, r.max_grad_norm);
    summary +=
        (i ? ", " : "") + train::json_object({{"run", json_string(r.name)},
                                              {"steps", std::to_string(r.steps)},
                                              {"test_mse", json_number(r.test_mse)},
                                              {"within_0_04", json_number(r.within)},
                                              {"first_to_last_start", json_number(first)},
                                              {"first_to_last_end", json_number(last)},
                                              {"max_grad_norm", json_number(r.max_grad_norm)}});
  }
  std::ofstream out(o.svg);
  if (!out) throw tg::examples::FlagError("--svg " + o.svg + ": cannot open it for writing");
  out << tg::examples::svg_line_chart(chart(results));
  out.close();
  std::printf("\ncurves: %s, chart: %s\n", o.jsonl.c_str(), o.svg.c_str());
  std::printf("%s], \"seq_len\": %lld, \"device\": %s}\n", summary.c_str(),
              static_cast<long long>(o.seq_len), json_string(device.str()).c_str());
}

int run(const Options& o) {
  const std::vector<std::string> names = tg::examples::split_list(o.runs);
  tg::examples::check_remedies(names, all_runs(), "--runs");
  if (o.threads > 0) tg::set_num_threads(o.threads);
  const Device device = tg::examples::pick_device(o.device);
  std::ofstream jsonl(o.jsonl);
  if (!jsonl) throw tg::examples::FlagError("--jsonl " + o.jsonl + ": cannot open it for writing");
  Generator test_data(o.seed + 2);
  const Batch test = adding_batch(o.seq_len, o.test_size, test_data, device);
  std::printf(
      "adding problem, %lld steps, hidden %lld, batch %lld; SGD lr %g momentum %g, Adam lr %g; "
      "on %s\n",
      static_cast<long long>(o.seq_len), static_cast<long long>(o.hidden),
      static_cast<long long>(o.batch), o.sgd_lr, o.momentum, o.adam_lr, device.str().c_str());
  std::vector<RunResult> results;
  for (const std::string& name : names) results.push_back(train_run(o, name, device, test, jsonl));
  report(o, results, device);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tg::use_openmp_spin_policy(argv);  // Note [OpenMP wait policy] in core/threads.h
  using tg::examples::finite_number;
  using tg::examples::positive_number;
  Options o;
  CLI::App app{"rnn_gradients: exploding and vanishing gradients through time, and the remedies"};
  app.add_option("--seq-len", o.seq_len, "time steps per sequence")
      ->check(CLI::Range(int64_t{2}, int64_t{10000}))
      ->capture_default_str();
  app.add_option("--hidden", o.hidden, "hidden units")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  app.add_option("--batch", o.batch, "sequences per step")
      ->check(CLI::Range(int64_t{1}, int64_t{65536}))
      ->capture_default_str();
  app.add_option("--steps", o.steps, "training steps per run")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--profile-every", o.profile_every, "record ||dL/dh_t|| every N steps")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--sgd-lr", o.sgd_lr, "SGD's learning rate (rnn, rnn_large, rnn_clip)")
      ->check(positive_number())
      ->capture_default_str();
  app.add_option("--adam-lr", o.adam_lr, "Adam's learning rate (rnn_adam, lstm, gru)")
      ->check(positive_number())
      ->capture_default_str();
  app.add_option("--momentum", o.momentum, "SGD's momentum")
      ->check(finite_number(0, 1, false, true))
      ->capture_default_str();
  app.add_option("--clip", o.clip, "max global gradient norm of rnn_clip")
      ->check(positive_number())
      ->capture_default_str();
  app.add_option("--gain", o.gain, "W_hh's orthogonal gain in rnn_large and rnn_clip")
      ->check(positive_number())
      ->capture_default_str();
  app.add_option("--runs", o.runs, "which runs, comma-separated")->capture_default_str();
  app.add_option("--seed", o.seed, "seeds the weights (the data: seed + 1, the test: seed + 2)")
      ->check(tg::examples::unsigned_64())
      ->capture_default_str();
  app.add_option("--threads", o.threads, "OpenMP threads (0: the default)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--device", o.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  app.add_option("--jsonl", o.jsonl, "curves, a line per run and step")
      ->check(tg::examples::non_empty())
      ->capture_default_str();
  app.add_option("--svg", o.svg, "the chart")
      ->check(tg::examples::non_empty())
      ->capture_default_str();
  if (const int code = tg::examples::parse_command_line(app, argc, argv, "rnn_gradients");
      code >= 0)
    return code;
  return tg::examples::run_reporting_errors("rnn_gradients", [&] { return run(o); });
}
