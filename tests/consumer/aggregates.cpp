// The options and hyperparameter structs as a user initialises them: by position and, in
// C++20, with designated initialisers. Compiled with -Wall -Wextra -Werror (tests/consumer/
// CMakeLists.txt): a field without a default member initialiser would fail it with
// -Wmissing-field-initializers (issue 25).
#include <tamegrad/data/dataloader.h>
#include <tamegrad/optim/early_stopping.h>
#include <tamegrad/optim/monitor.h>
#include <tamegrad/tamegrad.h>

#include <cstdio>

int main() {
  const tg::optim::SGDParams sgd{0.1};
  const tg::optim::SGDParams nesterov{.lr = 0.05, .momentum = 0.9, .nesterov = true};
  const tg::optim::AdamParams adam{.lr = 3e-4};
  const tg::optim::AdamWParams adamw{1e-3, 0.9};
  const tg::optim::AdagradParams adagrad{.lr = 0.01};
  const tg::optim::RMSpropParams rmsprop{.lr = 1e-3, .centered = true};
  const tg::optim::Regularization l2{0.01};
  const tg::optim::EarlyStoppingOptions early{3};
  const tg::optim::PlateauOptions plateau{.factor = 0.5};
  const tg::optim::OneCycleOptions one_cycle{.pct_start = 0.25};
  const tg::optim::MonitorOptions monitor{.max_grad_norm = 100};
  const tg::layers::Conv2dOptions conv{.padding = {1, 1}};
  const tg::layers::BatchNormOptions batch_norm{.momentum = 0.01};
  const tg::data::LoaderOptions loader{.batch_size = 64, .shuffle = false};
  const tg::ClassLossOptions loss{.label_smoothing = 0.1};
  tg::Tensor w = tg::zeros({2}).requires_grad_();
  const tg::optim::ParamGroup<tg::optim::SGDParams> group{{w}};
  tg::optim::SGD opt({group});
  const bool ok = sgd.lr == 0.1 && nesterov.nesterov && adam.beta1 == 0.9 &&
                  adamw.weight_decay == 1e-2 && adagrad.eps == 1e-10 && rmsprop.alpha == 0.99 &&
                  l2.l2_penalty == 0.01 && early.patience == 3 && plateau.patience == 10 &&
                  one_cycle.div_factor == 25 && monitor.window == 20 && conv.stride[0] == 1 &&
                  batch_norm.affine && loader.batch_size == 64 && loss.ignore_index == -100 &&
                  opt.lr() == 1e-2;
  std::printf("aggregates: %s\n", ok ? "every default kept" : "a default was lost");
  return ok ? 0 : 1;
}
