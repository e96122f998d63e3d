// The optimizers, learning-rate schedules, early stopping, weight averaging, and the
// gradient telemetry and monitor.
#pragma once

#include "tamegrad/optim/adagrad.h"
#include "tamegrad/optim/adam.h"
#include "tamegrad/optim/averaging.h"
#include "tamegrad/optim/early_stopping.h"
#include "tamegrad/optim/monitor.h"
#include "tamegrad/optim/optimizer.h"
#include "tamegrad/optim/rmsprop.h"
#include "tamegrad/optim/schedule.h"
#include "tamegrad/optim/sgd.h"
#include "tamegrad/optim/telemetry.h"
