// Model fusion (Note [weight averaging]): EMA and SWA against naive float64 references,
// update_batch_norm against statistics computed directly, and prediction averaging.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/generator.h"
#include "../../core/ops.h"
#include "../../layers/layers.h"
#include "../../optim/averaging.h"
#include "../support/parity.h"

namespace tg {
namespace {

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.detach().to(DType::Float64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Runs 6 "steps" that set the weights to known values; compares the average after each.
void check_average(bool swa) {
  layers::Linear model(3, 2, true, TensorOptions(DType::Float64));
  const NamedTensors params = model.named_parameters();
  optim::AveragedWeights avg =
      swa ? optim::AveragedWeights::swa(params) : optim::AveragedWeights::ema(params, 0.9);
  EXPECT_THROW(avg.copy_to(params), Error) << "nothing averaged yet";
  std::vector<std::vector<double>> reference;  // per parameter
  Generator gen(9);
  for (int step = 1; step <= 6; ++step) {
    {
      NoGradGuard no_grad;
      for (const auto& [name, p] : params) {
        Tensor target = p;
        target.copy_(randn(p.shape(), TensorOptions(DType::Float64), &gen));
      }
    }
    avg.update();
    for (size_t i = 0; i < params.size(); ++i) {
      const std::vector<double> now = values(params[i].second);
      if (step == 1) {
        reference.push_back(now);
        continue;
      }
      for (size_t j = 0; j < now.size(); ++j) {
        double& r = reference[i][j];
        r = swa ? r + (now[j] - r) / step : 0.9 * r + 0.1 * now[j];
      }
    }
    EXPECT_EQ(avg.updates(), step);
    for (size_t i = 0; i < params.size(); ++i) {
      const std::vector<double> got = values(avg.averages()[i].second);
      for (size_t j = 0; j < got.size(); ++j) {
        EXPECT_NEAR(got[j], reference[i][j], 1e-12) << params[i].first << " step " << step;
      }
    }
  }
  // copy_to writes the averages into a model of the same shape.
  layers::Linear other(3, 2, true, TensorOptions(DType::Float64));
  avg.copy_to(other.named_parameters());
  EXPECT_EQ(values(other.weight), values(avg.averages()[0].second));
}

TEST(WeightAveraging, EmaMatchesTheNaiveReference) { check_average(false); }
TEST(WeightAveraging, SwaIsThePlainMeanOfTheUpdates) { check_average(true); }

TEST(WeightAveraging, BadArgumentsAreNamed) {
  layers::Linear model(2, 2);
  EXPECT_THROW(optim::AveragedWeights::ema(model.named_parameters(), 1.0), Error);
  EXPECT_THROW(optim::AveragedWeights::swa({}), Error);
}

TEST(UpdateBatchNorm, RunningStatisticsBecomeTheMeanOverTheBatches) {
  using namespace layers;
  auto net = sequential({make<Linear>(4, 3), make<BatchNorm1d>(3)});
  auto& bn = dynamic_cast<BatchNorm1d&>(*net->named_children()[1].second);
  bn.set_momentum(0.3);
  net->eval();
  Generator gen(4);
  std::vector<Tensor> batches;
  for (int i = 0; i < 3; ++i) batches.push_back(randn({5, 4}, {}, &gen));
  update_batch_norm(*net, 3, [&](int64_t k) { return batches[k]; });
  // Each batch's statistics of the Linear's output, averaged.
  NoGradGuard no_grad;
  Tensor mean_sum, var_sum;
  auto& linear = dynamic_cast<Linear&>(*net->named_children()[0].second);
  for (const Tensor& b : batches) {
    const Tensor h = linear(b);
    const Tensor m = mean(h, {0});
    const Tensor v = var(h, {0}, true);  // unbiased, as the running variance
    mean_sum = mean_sum.defined() ? add(mean_sum, m) : m;
    var_sum = var_sum.defined() ? add(var_sum, v) : v;
  }
  EXPECT_TRUE(testing::tensors_close(bn.running_mean, div(mean_sum, 3.0), 1e-6, 1e-5));
  EXPECT_TRUE(testing::tensors_close(bn.running_var, div(var_sum, 3.0), 1e-6, 1e-5));
  EXPECT_EQ(bn.momentum(), 0.3) << "momentum put back";
  EXPECT_FALSE(net->is_training()) << "mode put back";
}

TEST(AveragePredictions, IsTheMeanOfTheSoftmaxes) {
  layers::Linear a(3, 4), b(3, 4);
  const Tensor x = randn({2, 3});
  const Tensor expected = div(add(softmax(a(x), -1), softmax(b(x), -1)), 2.0);
  EXPECT_TRUE(
      testing::tensors_close(layers::average_predictions({&a, &b}, x), expected, 1e-6, 1e-6));
  EXPECT_THROW(layers::average_predictions({}, x), Error);
}

}  // namespace
}  // namespace tg
