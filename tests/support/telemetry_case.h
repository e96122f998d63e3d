// A small training problem for the gradient telemetry's tests (tests/unit/telemetry_test.cpp
// and its CUDA twin): five parameters, one of them spanning three pieces
// (Note [stat pieces], kernels/param_stats.h), a 0-d one, an empty one, in two SGD groups.
#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include "../../core/factory.h"
#include "../../core/generator.h"
#include "../../core/ops.h"
#include "../../core/state_dict.h"
#include "../../optim/sgd.h"

namespace tg::testing {

struct TelemetryCase {
  std::vector<Tensor> params;
  NamedTensors names;
  Tensor mask;  // zeros make exact-zero gradient entries in the big tensor
  std::unique_ptr<optim::SGD> opt;

  TelemetryCase(DType dtype, const Device& device) {
    Generator g(5);
    const std::vector<Shape> shapes = {{90, 100}, {}, {0, 3}, {7}, {3, 5}};
    const char* labels[] = {"big.weight", "scale", "empty", "bias", "head.weight"};
    for (size_t i = 0; i < shapes.size(); ++i) {
      params.push_back(randn(shapes[i], TensorOptions(dtype), &g).to(device).requires_grad_());
      names.emplace_back(labels[i], params.back());
    }
    const Tensor u = rand({90, 100}, TensorOptions(dtype), &g);
    mask = gt(u, full({}, 0.3, TensorOptions(dtype))).to(dtype).to(device);
    optim::SGDParams first, second;
    first.lr = 0.1;
    first.momentum = 0.9;
    second.lr = 0.05;
    opt = std::make_unique<optim::SGD>(std::vector<optim::ParamGroup<optim::SGDParams>>{
        {{params[0], params[1], params[2]}, first}, {{params[3], params[4]}, second}});
  }
  void backward(double poison = 1.0) {
    opt->zero_grad();
    Tensor loss = sum(mul(mul(params[0], params[0]), mask));
    loss = add(loss, mul(sum(tanh(params[3])), params[1]));
    loss = add(loss, sum(mul(params[3], params[3])));
    loss = add(loss, mul(sum(exp(params[4])), poison));
    loss = add(loss, sum(params[2]));
    loss.backward();
  }
};

}  // namespace tg::testing
