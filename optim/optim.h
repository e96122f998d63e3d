// The optimizers, learning-rate schedules and early stopping.
#pragma once

#include "tamegrad/optim/adagrad.h"
#include "tamegrad/optim/adam.h"
#include "tamegrad/optim/averaging.h"
#include "tamegrad/optim/early_stopping.h"
#include "tamegrad/optim/optimizer.h"
#include "tamegrad/optim/rmsprop.h"
#include "tamegrad/optim/schedule.h"
#include "tamegrad/optim/sgd.h"
