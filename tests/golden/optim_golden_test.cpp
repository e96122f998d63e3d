// Our optimizers against PyTorch's trajectories (label golden): 100 steps of each
// configuration written by tests/golden/make_optim_golden.py, float64 on the CPU (and on
// CUDA where a GPU is present), compared after every step; each also with global-norm
// clipping before every step.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../optim/optim.h"
#include "../support/golden.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

using Factory = std::function<std::unique_ptr<optim::Optimizer>(const Tensor&)>;

// With clip > 0, clip_grad_norm(clip) runs before every step, as torch's clip_grad_norm_
// did for the "_clipped" files; the returned norm is compared too. Every trajectory is held
// to `tolerance` (absolute and relative) after every step: 1e-12 by default. (Before
// Note [clip scalars] the clipped ones drifted by ~1e-8: a float32 coefficient.)
void replay(const std::string& name, const Factory& make, const Device& device, double clip = 0.0,
            double tolerance = 1e-12) {
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
    if (clip > 0) {
      const Tensor norm = opt->clip_grad_norm(clip);
      ASSERT_EQ(norm.dtype(), DType::Float64) << "the norm comes back in the parameters' dtype";
      ASSERT_TRUE(tensors_close(norm, golden.at("norms").select(0, t - 1), tolerance, tolerance))
          << "norm at step " << t;
    }
    opt->step();
    ASSERT_TRUE(tensors_close(p, trajectory.select(0, t - 1), tolerance, tolerance))
        << "after step " << t;
  }
}

// The configuration as recorded, and again with clip_grad_norm(0.5) before every step.
void replay_everywhere(const std::string& name, const Factory& make,
                       double clipped_tolerance = 1e-12) {
  for (const Device& device : {Device::cpu(), Device::cuda()}) {
    if (device.is_cuda() && !cuda_is_available()) continue;
    replay(name, make, device);
    replay(name + "_clipped", make, device, 0.5, clipped_tolerance);
  }
}

optim::Regularization l2(double v) {
  optim::Regularization r;
  r.l2_penalty = v;
  return r;
}

TEST(OptimGolden, SGD) {
  replay_everywhere("sgd", [](const Tensor& p) {
    optim::SGDParams h;
    h.lr = 0.05;
    return std::make_unique<optim::SGD>(std::vector<Tensor>{p}, h);
  });
  replay_everywhere("sgd_momentum", [](const Tensor& p) {
    optim::SGDParams h;
    h.lr = 0.05;
    h.momentum = 0.9;
    h.dampening = 0.1;
    return std::make_unique<optim::SGD>(std::vector<Tensor>{p}, h);
  });
  replay_everywhere("sgd_nesterov_l2", [](const Tensor& p) {
    optim::SGDParams h;
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

TEST(OptimGolden, RMSprop) {
  replay_everywhere("rmsprop", [](const Tensor& p) {
    optim::RMSpropParams h;
    h.lr = 0.01;
    return std::make_unique<optim::RMSprop>(std::vector<Tensor>{p}, h);
  });
  // Clipped, this one amplifies last-bit differences of the norm: PyTorch's vector_norm
  // adds the squares in another order than ours (for 16% of random 10-element vectors the
  // two norms differ in the last bit), and after 52 steps the trajectories are 4.4e-12
  // apart. Held to 1e-10 (a float32 coefficient drifted by ~1e-8).
  replay_everywhere(
      "rmsprop_centered_momentum",
      [](const Tensor& p) {
        optim::RMSpropParams h;
        h.lr = 0.01;
        h.centered = true;
        h.momentum = 0.5;
        h.regularization = l2(0.01);
        return std::make_unique<optim::RMSprop>(std::vector<Tensor>{p}, h);
      },
      1e-10);
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
