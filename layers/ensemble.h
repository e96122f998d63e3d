// Prediction averaging: an ensemble's class probabilities are the mean of its members'
// softmax outputs (each member as it is: put them in eval mode first). With
// optim/averaging.h (EMA, SWA) and update_batch_norm (layers/batch_norm.h), the model-fusion
// tools; examples/ensemble.cpp uses all three.
//
// Tests: tests/unit/averaging_test.cpp
#pragma once

#include <vector>

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

// (N, classes): mean over the models of softmax(model(x), -1), computed without gradients.
Tensor average_predictions(const std::vector<Module*>& models, const Tensor& x);

}  // namespace tg::layers

TG_API_END
