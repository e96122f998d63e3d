// Our optimizers against PyTorch's trajectories (label golden): 100 steps of each
// configuration written by tests/golden/make_optim_golden.py, float64 on the CPU (and on
// CUDA where a GPU is present), compared after every step.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "tamegrad/core/autograd.h"
#include "tamegrad/core/factory.h"
#include "tamegrad/optim/optim.h"
#include "tamegrad/tests/support/golden.h"
#include "tamegrad/tests/support/parity.h"

namespace tg::testing {
namespace {

using Factory = std::function<std::unique_ptr<optim::Optimizer>(const Tensor&)>;

void replay(const std::string& name, const Factory& make, const Device& device) {
  SCOPED_TRACE(name + " on " + device.str());
  const auto golden = read_golden(std::string(TG_GOLDEN_DIR) + "/optim_" + name + ".txt");
  const Tensor c = golden.at("c"), target = golden.at("target"),
               trajectory = golden.at("trajectory");
  Tensor p = golden.at("p0").clone().to(device);
  p.requires_grad_();
  std::unique_ptr<optim::Optimizer> opt = make(p);
  for (int64_t t = 1; t <= trajectory.size(0); ++t) {
    std::vector<double> g(10);
    const Tensor host = p.detach().to(Device::cpu());
    for (int i = 0; i < 10; ++i) {
      g[i] = c.data_ptr<double>()[i] * (host.data_ptr<double>()[i] - target.data_ptr<double>()[i]) +
             0.05 * std::sin(0.37 * t + i);
    }
    {
      NoGradGuard no_grad;
      p.grad().copy_(from_vector(g));
    }
    opt->step();
    ASSERT_TRUE(tensors_close(p, trajectory.select(0, t - 1), 1e-9, 1e-7)) << "after step " << t;
  }
}

void replay_everywhere(const std::string& name, const Factory& make) {
  replay(name, make, Device::cpu());
  if (cuda_is_available()) replay(name, make, Device::cuda());
}

optim::Regularization l2(double v) {
  optim::Regularization r;
  r.l2_penalty = v;
  return r;
}

TEST(OptimGolden, Sgd) {
  replay_everywhere("sgd", [](const Tensor& p) {
    optim::SgdParams h;
    h.lr = 0.05;
    return std::make_unique<optim::SGD>(std::vector<Tensor>{p}, h);
  });
  replay_everywhere("sgd_momentum", [](const Tensor& p) {
    optim::SgdParams h;
    h.lr = 0.05;
    h.momentum = 0.9;
    h.dampening = 0.1;
    return std::make_unique<optim::SGD>(std::vector<Tensor>{p}, h);
  });
  replay_everywhere("sgd_nesterov_l2", [](const Tensor& p) {
    optim::SgdParams h;
    h.lr = 0.05;
    h.momentum = 0.8;
    h.nesterov = true;
    h.regularization = l2(0.01);
    return std::make_unique<optim::SGD>(std::vector<Tensor>{p}, h);
  });
}

TEST(OptimGolden, Adagrad) {
  replay_everywhere("adagrad", [](const Tensor& p) {
    optim::AdagradParams h;
    h.lr = 0.1;
    h.lr_decay = 0.01;
    h.initial_accumulator = 0.1;
    h.regularization = l2(0.02);
    return std::make_unique<optim::Adagrad>(std::vector<Tensor>{p}, h);
  });
}

TEST(OptimGolden, Rmsprop) {
  replay_everywhere("rmsprop", [](const Tensor& p) {
    optim::RmspropParams h;
    h.lr = 0.01;
    return std::make_unique<optim::RMSprop>(std::vector<Tensor>{p}, h);
  });
  replay_everywhere("rmsprop_centered_momentum", [](const Tensor& p) {
    optim::RmspropParams h;
    h.lr = 0.01;
    h.centered = true;
    h.momentum = 0.5;
    h.regularization = l2(0.01);
    return std::make_unique<optim::RMSprop>(std::vector<Tensor>{p}, h);
  });
}

TEST(OptimGolden, AdamAndAdamW) {
  replay_everywhere("adam", [](const Tensor& p) {
    optim::AdamParams h;
    h.lr = 0.05;
    return std::make_unique<optim::Adam>(std::vector<Tensor>{p}, h);
  });
  replay_everywhere("adam_amsgrad_l2", [](const Tensor& p) {
    optim::AdamParams h;
    h.lr = 0.05;
    h.amsgrad = true;
    h.regularization = l2(0.01);
    return std::make_unique<optim::Adam>(std::vector<Tensor>{p}, h);
  });
  replay_everywhere("adamw", [](const Tensor& p) {
    optim::AdamWParams h;
    h.lr = 0.05;
    h.weight_decay = 0.05;
    return std::make_unique<optim::AdamW>(std::vector<Tensor>{p}, h);
  });
}

}  // namespace
}  // namespace tg::testing
