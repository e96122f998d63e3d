// grad_vanish: a deep network whose gradients die on the way back, and what revives them.
// A --depth-layer sigmoid MLP (784 -> width x (depth - 1) -> 10) with PyTorch's default
// initialisation (uniform ±1/sqrt(fan_in)) trained with SGD on MNIST-format data: every
// sigmoid passes back at most a quarter of its gradient, the default weights shrink it
// again, so the first layers' gradients are orders of magnitude below the last layer's,
// the gradient monitor's `vanishing` alarm (optim/monitor.h) names them, and the net
// learns nothing. Then the same run with one change each: tanh, ReLU, ReLU with He
// initialisation, SELU with LeCun-normal weights, BatchNorm before every sigmoid, LayerNorm
// after every sigmoid (and, for contrast, before), residual connections around every
// hidden layer, and a shallower net.
//
// Output as grad_explosion's (examples/common/gradient_demo.h): per-layer gradient-norm
// tables at chosen steps for chosen runs, a summary table in Markdown (with the first
// weight's gradient norm over the last one's at step 0), the curves as JSON Lines
// (--jsonl) and an SVG chart (--svg); the last line of stdout is one JSON object.
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
  int depth = 20, width = 128, shallow_depth = 3;
};

const std::vector<tg::examples::Remedy>& all_remedies() {
  static const std::vector<tg::examples::Remedy> remedies = {
      {"naive", "sigmoid, PyTorch's default init, no normalisation"},
      {"tanh", "tanh instead of sigmoid"},
      {"relu", "ReLU instead of sigmoid (default init)"},
      {"he", "ReLU with He (Kaiming) normal init"},
      {"selu", "SELU with LeCun-normal init (self-normalising)"},
      {"batchnorm", "BatchNorm1d before every sigmoid"},
      {"layernorm", "LayerNorm after every sigmoid (the next layer's input)"},
      {"layernorm_before", "LayerNorm before every sigmoid"},
      {"residual", "every hidden layer a residual block x + sigmoid(Linear(x))"},
      {"shallow", "a shallower net (--shallow-depth Linear layers)"}};
  return remedies;
}

std::shared_ptr<layers::Module> activation(const std::string& remedy) {
  using namespace tg::layers;
  if (remedy == "tanh") return make<Tanh>();
  if (remedy == "relu" || remedy == "he") return make<ReLU>();
  if (remedy == "selu") return make<SELU>();
  return make<Sigmoid>();
}

std::shared_ptr<layers::Sequential> make_net(const Options& o, const std::string& remedy) {
  using namespace tg::layers;
  using namespace tg::layers::init;
  const int depth = remedy == "shallow" ? o.shallow_depth : o.depth;
  auto net = make<Sequential>();
  net->push_back(make<Flatten>());
  int64_t in = 784;
  for (int layer = 1; layer <= depth; ++layer) {
    const int64_t out = layer == depth ? 10 : o.width;
    auto linear = make<Linear>(in, out);  // PyTorch's default initialisation
    if (remedy == "he") {
      kaiming_normal_(linear->weight);
      constant_(linear->bias, 0.0);
    } else if (remedy == "selu") {
      lecun_normal_(linear->weight);
      constant_(linear->bias, 0.0);
    }
    if (layer == depth) {
      net->push_back(linear);
      break;
    }
    // The first layer changes the width: the residual blocks start after it.
    if (remedy == "residual" && layer > 1) {
      net->push_back(make<Residual>(sequential({linear, activation(remedy)})));
    } else {
      net->push_back(linear);
      if (remedy == "batchnorm") net->push_back(make<BatchNorm1d>(out));
      if (remedy == "layernorm_before") net->push_back(make<LayerNorm>(Shape{out}));
      net->push_back(activation(remedy));
      if (remedy == "layernorm") net->push_back(make<LayerNorm>(Shape{out}));
    }
    in = out;
  }
  return net;
}

tg::examples::DemoRun setup(const Options& o, const std::string& remedy, const Device& device) {
  tg::examples::DemoRun run;
  auto net = make_net(o, remedy);
  net->to(device);
  optim::SGDParams hyper;
  hyper.lr = o.demo.lr;
  hyper.momentum = o.demo.momentum;
  run.opt = std::make_unique<optim::SGD>(net->parameters(), hyper);
  run.net = net;
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  tg::use_openmp_spin_policy(argv);  // Note [OpenMP wait policy] in core/threads.h
  Options o;
  tg::examples::DemoFlags& demo = o.demo;
  demo.recipe.batch = 64;
  demo.recipe.limit = 20000;
  demo.remedies = "naive,tanh,relu,he,selu,batchnorm,layernorm,layernorm_before,residual,shallow";
  demo.tables = "naive,residual";
  demo.table_steps = "0,1,10,100,299";
  demo.jsonl = "grad_vanish.jsonl";
  demo.svg = "grad_vanish.svg";
  CLI::App app{"grad_vanish: a deep sigmoid network whose gradients vanish, and the remedies"};
  app.add_option("--depth", o.depth, "Linear layers")
      ->check(CLI::Range(2, 200))
      ->capture_default_str();
  app.add_option("--shallow-depth", o.shallow_depth, "Linear layers of the shallow remedy")
      ->check(CLI::Range(1, 200))
      ->capture_default_str();
  app.add_option("--width", o.width, "hidden units")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  tg::examples::add_demo_flags(app, demo);
  if (const int code = tg::examples::parse_command_line(app, argc, argv, "grad_vanish"); code >= 0)
    return code;
  return tg::examples::run_reporting_errors("grad_vanish", [&] {
    const std::string headline =
        std::to_string(o.depth) + "-layer sigmoid MLP (width " + std::to_string(o.width) + ")";
    return tg::examples::run_demo(
        "grad_vanish", headline, demo, all_remedies(),
        [&](const std::string& remedy, const Device& device) { return setup(o, remedy, device); });
  });
}
