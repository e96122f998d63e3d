// optim::EarlyStopping (optim/early_stopping.h): Keras' patience and min_delta rules, and
// the best weights restored into a model.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../layers/layers.h"
#include "../../optim/early_stopping.h"
#include "../support/parity.h"

namespace tg {
namespace {

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  optim::EarlyStopping stop({/*patience=*/2, /*min_delta=*/0.0, /*keep_best=*/false});
  const std::vector<double> losses{1.0, 0.8, 0.9, 0.7, 0.75, 0.7, 0.9};
  std::vector<bool> stops;
  for (double l : losses) stops.push_back(stop.update(l));
  // best 0.7 at epoch 4; epochs 5 and 6 do not improve (0.7 is not below 0.7): stop at 6.
  EXPECT_EQ(stops, (std::vector<bool>{false, false, false, false, false, true, true}));
  EXPECT_EQ(stop.best(), 0.7);
  EXPECT_EQ(stop.best_epoch(), 4);
  EXPECT_TRUE(stop.should_stop());
}

TEST(EarlyStopping, MinDeltaAndNonFiniteValues) {
  optim::EarlyStopping stop({3, 0.05, false});
  stop.update(1.0);
  stop.update(0.97);  // not more than 0.05 better: no improvement
  EXPECT_EQ(stop.best_epoch(), 1);
  stop.update(std::nan(""));  // never an improvement
  EXPECT_EQ(stop.best_epoch(), 1);
  EXPECT_FALSE(stop.update(0.9));  // 0.1 better: new best at epoch 4, wait 0
  EXPECT_EQ(stop.best_epoch(), 4);
  EXPECT_EQ(stop.wait(), 0);
  EXPECT_THROW(optim::EarlyStopping({0, 0.0, false}), Error);
  EXPECT_THROW(optim::EarlyStopping({1, -1.0, false}), Error);
}

TEST(EarlyStopping, RestoresTheBestWeightsIntoTheModel) {
  layers::Linear model(3, 2);
  optim::EarlyStopping stop({2, 0.0, true});
  EXPECT_FALSE(stop.restore_best(model.state_dict())) << "no snapshot yet";
  std::vector<Tensor> at_epoch;
  const std::vector<double> losses{0.9, 0.5, 0.6, 0.7};
  for (size_t epoch = 0; epoch < losses.size(); ++epoch) {
    {
      NoGradGuard no_grad;
      Tensor w = model.weight;
      w.fill_(static_cast<double>(epoch + 1));  // "training" changes the weights
    }
    at_epoch.push_back(model.weight.detach().clone());
    stop.update(losses[epoch], model.state_dict());
  }
  EXPECT_TRUE(stop.should_stop());
  EXPECT_EQ(stop.best_epoch(), 2);
  EXPECT_TRUE(testing::tensors_close(model.weight, at_epoch[3], 0, 0));
  EXPECT_TRUE(stop.restore_best(model.state_dict()));
  EXPECT_TRUE(testing::tensors_close(model.weight, at_epoch[1], 0, 0)) << "epoch 2's weights";
  // A model of another shape is refused, by name, and left as it was.
  layers::Linear other(4, 2);
  const Tensor before = other.weight.detach().clone();
  EXPECT_THROW(stop.restore_best(other.state_dict()), Error);
  EXPECT_TRUE(testing::tensors_close(other.weight, before, 0, 0));
}

TEST(EarlyStopping, ResumesFromSavedProgress) {
  optim::EarlyStopping stop({2, 0.0, false});
  stop.set_progress(0.4, 3, 4);  // best at 3, one epoch waited
  EXPECT_FALSE(stop.should_stop());
  EXPECT_TRUE(stop.update(0.5));  // second epoch without improvement
  EXPECT_EQ(stop.epochs(), 5);
}

}  // namespace
}  // namespace tg
