// The optimizers, learning-rate schedules, early stopping, weight averaging, and the
// gradient telemetry and monitor.
#pragma once

#include "adagrad.h"
#include "adam.h"
#include "averaging.h"
#include "early_stopping.h"
#include "loss_scaler.h"
#include "monitor.h"
#include "optimizer.h"
#include "rmsprop.h"
#include "schedule.h"
#include "sgd.h"
#include "telemetry.h"
