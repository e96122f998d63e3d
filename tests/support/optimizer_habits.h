// The PyTorch habits that once made an optimizer's step move the weights by exactly 0 in
// silence (Note [parameters leave the flat buffer], optim/optimizer.cpp), as checks run on
// one device: tests/unit/optimizer_habits_test.cpp runs them on the CPU, its CUDA twin
// tests/cuda/optimizer_habits_cuda_test.cpp on a GPU.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/generator.h"
#include "../../core/ops.h"
#include "../../layers/layers.h"
#include "../../optim/optim.h"

namespace tg::testing {

// A 2-layer MLP on `device` with fixed weights, and a fixed batch for it.
struct HabitModel {
  std::shared_ptr<layers::Sequential> net;
  Tensor x, y;

  explicit HabitModel(const Device& device) {
    using namespace layers;
    manual_seed(3);
    net = sequential({make<Linear>(6, 5), make<ReLU>(), make<Linear>(5, 3)});
    net->to(device);
    Generator g(9);
    x = randn({8, 6}, DType::Float32, &g).to(device);
    y = full({8}, 1.0, DType::Int64).to(device);
  }
  Tensor loss() const { return cross_entropy((*net)(x), y); }
  // Every parameter's values, on the CPU, in float64.
  std::vector<std::vector<double>> weights() const {
    std::vector<std::vector<double>> out;
    for (const Tensor& p : net->parameters()) {
      const Tensor c = p.detach().to(Device::cpu()).to(DType::Float64).contiguous();
      out.emplace_back(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
    }
    return out;
  }
};

// Three Adam steps on a fresh HabitModel, with `clear` called where a loop clears the
// gradients before each backward; returns the final weights.
inline std::vector<std::vector<double>> three_steps(
    const Device& device, const std::function<void(HabitModel&, optim::Optimizer&)>& clear) {
  HabitModel m(device);
  optim::Adam opt(m.net->parameters());
  for (int step = 0; step < 3; ++step) {
    clear(m, opt);
    m.loss().backward();
    opt.step();
  }
  return m.weights();
}

// Module::zero_grad() in place of, or as well as, the optimizer's, and gradients set to
// none by hand: every loop ends where opt.zero_grad() alone ends, away from the start.
inline void check_module_zero_grad_is_followed(const Device& device) {
  const auto start = HabitModel(device).weights();
  const auto expected =
      three_steps(device, [](HabitModel&, optim::Optimizer& opt) { opt.zero_grad(); });
  EXPECT_NE(expected, start);
  EXPECT_EQ(three_steps(device, [](HabitModel& m, optim::Optimizer&) { m.net->zero_grad(); }),
            expected)
      << "model.zero_grad() instead of opt.zero_grad()";
  EXPECT_EQ(three_steps(device,
                        [](HabitModel& m, optim::Optimizer& opt) {
                          m.net->zero_grad();
                          opt.zero_grad();
                        }),
            expected)
      << "model.zero_grad() and opt.zero_grad()";
  EXPECT_EQ(three_steps(device,
                        [](HabitModel& m, optim::Optimizer&) {
                          for (const Tensor& p : m.net->parameters()) p.set_grad(Tensor());
                        }),
            expected)
      << "gradients set to none (the next backward makes fresh tensors)";
  // A gradient cleared after backward counts as zero, not as the buffer's stale values.
  HabitModel m(device);
  optim::SGD opt(m.net->parameters(), optim::SGDParams{0.5});
  m.loss().backward();
  const Tensor first_weight = m.net->parameters().front();
  first_weight.set_grad(Tensor());
  const auto before = m.weights();
  opt.step();
  EXPECT_EQ(m.weights().front(), before.front()) << "a cleared gradient must step by zero";
  EXPECT_NE(m.weights().back(), before.back());
  EXPECT_TRUE(first_weight.grad().defined()) << "the gradient is a view of the buffer again";
}

inline std::string message_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Module::to after the optimizer exists: step and zero_grad refuse, naming the parameter.
inline void check_module_to_is_refused(const Device& device, const Device& other) {
  for (bool to_dtype : {true, false}) {
    if (!to_dtype && other == device) continue;
    SCOPED_TRACE(to_dtype ? "to(Float64)" : "to(" + other.str() + ")");
    HabitModel m(device);
    optim::Adam opt(m.net->parameters());
    if (to_dtype) {
      m.net->to(DType::Float64);
    } else {
      m.net->to(other);
    }
    const std::string step = message_of([&] { opt.step(); });
    EXPECT_NE(step.find("Adam.step: parameter 0 (group 0, shape [5, 6]) left this optimizer's "
                        "flat buffer"),
              std::string::npos)
        << step;
    EXPECT_NE(step.find("Module::to"), std::string::npos) << step;
    EXPECT_NE(message_of([&] { opt.zero_grad(); }).find("Adam.zero_grad: parameter 0"),
              std::string::npos);
    EXPECT_NE(message_of([&] { opt.clip_grad_norm(1.0); }).find("left this optimizer's"),
              std::string::npos);
    // The model itself was moved whole, with its gradients, and still trains with a new
    // optimizer.
    m.x = to_dtype ? m.x.to(DType::Float64) : m.x.to(other);
    m.y = to_dtype ? m.y : m.y.to(other);
    optim::Adam fresh(m.net->parameters());
    const auto before = m.weights();
    m.loss().backward();
    fresh.step();
    EXPECT_NE(m.weights(), before);
  }
}

// A second optimizer over the same parameters: it trains them; the first refuses.
inline void check_second_optimizer_is_refused(const Device& device) {
  HabitModel m(device);
  optim::Adam first(m.net->parameters());
  optim::SGD second(m.net->parameters(), optim::SGDParams{0.1});
  second.zero_grad();
  m.loss().backward();
  const auto before = m.weights();
  second.step();
  EXPECT_NE(m.weights(), before) << "the optimizer built last updates the parameters";
  const std::string step = message_of([&] { first.step(); });
  EXPECT_NE(step.find("Adam.step: parameter 0 (group 0, shape [5, 6]) left this optimizer's flat "
                      "buffer"),
            std::string::npos)
      << step;
  EXPECT_NE(step.find("second optimizer"), std::string::npos) << step;
  EXPECT_NE(message_of([&] { first.zero_grad(); }).find("second optimizer"), std::string::npos);
}

}  // namespace tg::testing
