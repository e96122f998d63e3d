// The optimizers and learning-rate schedules.
#pragma once

#include "tamegrad/optim/adagrad.h"
#include "tamegrad/optim/adam.h"
#include "tamegrad/optim/optimizer.h"
#include "tamegrad/optim/rmsprop.h"
#include "tamegrad/optim/schedule.h"
#include "tamegrad/optim/sgd.h"
