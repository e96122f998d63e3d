// grad_explosion: a deep plain network that blows up, and what tames it. A --depth-layer
// ReLU MLP (784 -> width x (depth - 1) -> 10) with a naive initialisation (every weight
// N(0, --naive-std²), biases 0), no normalisation and no clipping, trained with SGD on
// MNIST-format data, explodes: its gradient norms grow layer by layer towards the input,
// the loss runs away and turns NaN, and the gradient monitor (optim/monitor.h) names the
// layer. Then the same run with one remedy each: He or orthogonal initialisation,
// BatchNorm, global-norm clipping, adaptive unit-wise clipping (AGC), history-based
// clipping (AutoClip's percentile, a ZClip-style z-score), Leaky ReLU, a lower learning
// rate, and gradient accumulation (K batches per step).
//
// It prints the per-layer gradient norms at chosen steps for chosen runs, and a summary
// (remedy, final loss, test accuracy, first alarm); writes the curves (loss, global and
// per-layer gradient norms per step) as JSON Lines (--jsonl) and as an SVG chart (--svg,
// log-scale y: loss and gradient norm per remedy, per-layer norms of chosen runs; the
// runs and reports are examples/common/gradient_demo.h's, shared with grad_vanish). The
// last line of stdout is one JSON object.
#include <CLI/CLI.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../tamegrad.h"
#include "common/flags.h"
#include "common/gradient_demo.h"
#include "mnist_recipe.h"

namespace {

using namespace tg;

struct Options {
  tg::examples::DemoFlags demo;
  int depth = 20, width = 256;
  double naive_std = 0.1, clip = 1.0, leaky_slope = 0.2, agc = 0.01;
  int accumulate = 4;
};

const std::vector<tg::examples::Remedy>& all_remedies() {
  static const std::vector<tg::examples::Remedy> remedies = {
      {"naive", "naive N(0, std^2) init, ReLU, no normalisation, no clipping"},
      {"he", "He (Kaiming) normal initialisation"},
      {"orthogonal", "orthogonal initialisation, gain sqrt(2)"},
      {"batchnorm", "BatchNorm1d after every hidden Linear"},
      {"clip", "global-norm clipping"},
      {"agc", "adaptive clipping, unit-wise (NFNets), the output layer unclipped"},
      {"autoclip", "history-based clipping: AutoClip's 10th percentile of the norms so far"},
      {"zclip", "history-based clipping: z-score over a moving mean (ZClip-style)"},
      {"leaky_relu", "Leaky ReLU"},
      {"lower_lr", "learning rate / 10"},
      {"accumulate", "gradient accumulation over K batches per step"}};
  return remedies;
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

// The remedy's network, optimizer and Trainer options.
tg::examples::DemoRun setup(const Options& o, const std::string& remedy, const Device& device) {
  tg::examples::DemoRun run;
  std::shared_ptr<layers::Sequential> net = make_net(o, remedy);
  net->to(device);
  optim::SGDParams hyper;
  hyper.lr = remedy == "lower_lr" ? o.demo.lr / 10 : o.demo.lr;
  hyper.momentum = o.demo.momentum;
  const std::vector<Tensor> params = net->parameters();
  if (remedy == "agc") {
    // As NFNets: every layer but the classifier (the last Linear's weight and bias).
    optim::SGDParams clipped = hyper;
    clipped.unit_clip.agc_lambda = o.agc;
    const std::vector<Tensor> body(params.begin(), params.end() - 2),
        head(params.end() - 2, params.end());
    run.opt = std::make_unique<optim::SGD>(
        std::vector<optim::ParamGroup<optim::SGDParams>>{{body, clipped}, {head, hyper}});
  } else {
    run.opt = std::make_unique<optim::SGD>(params, hyper);
  }
  run.net = net;
  run.options.accumulate = remedy == "accumulate" ? o.accumulate : 1;
  run.options.clip_norm = remedy == "clip" ? o.clip : 0;
  if (remedy == "autoclip" || remedy == "zclip") {
    optim::HistoryClipOptions history;
    history.rule =
        remedy == "autoclip" ? optim::HistoryRule::Percentile : optim::HistoryRule::ZScore;
    run.options.clip_auto = history;
  }
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  tg::use_openmp_spin_policy(argv);  // Note [OpenMP wait policy] in core/threads.h
  Options o;
  tg::examples::DemoFlags& demo = o.demo;
  demo.recipe.batch = 64;
  demo.recipe.limit = 20000;
  demo.remedies =
      "naive,he,orthogonal,batchnorm,clip,agc,autoclip,zclip,leaky_relu,lower_lr,accumulate";
  demo.tables = "naive,he";
  demo.table_steps = "0,1,2,3,10,50,100,200,299";
  demo.jsonl = "grad_explosion.jsonl";
  demo.svg = "grad_explosion.svg";
  CLI::App app{"grad_explosion: a deep plain network that explodes, and the remedies"};
  app.add_option("--depth", o.depth, "Linear layers")
      ->check(CLI::Range(2, 200))
      ->capture_default_str();
  app.add_option("--width", o.width, "hidden units")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--naive-std", o.naive_std, "std of the naive initialisation")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--clip", o.clip, "max global norm of the clip remedy")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--agc", o.agc, "lambda of the agc remedy (unit-wise adaptive clipping)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--accumulate", o.accumulate, "batches per step of the accumulate remedy")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  tg::examples::add_demo_flags(app, demo);
  if (const int code = tg::examples::parse_command_line(app, argc, argv, "grad_explosion");
      code >= 0)
    return code;
  return tg::examples::run_reporting_errors("grad_explosion", [&] {
    const std::string headline =
        std::to_string(o.depth) + "-layer ReLU MLP (width " + std::to_string(o.width) + ")";
    return tg::examples::run_demo(
        "grad_explosion", headline, demo, all_remedies(),
        [&](const std::string& remedy, const Device& device) { return setup(o, remedy, device); });
  });
}
