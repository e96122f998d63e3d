// The training package: the Trainer (fit / evaluate / predict), its callbacks, the metrics,
// training checkpoints and weights in and out.
#pragma once

#include "callback.h"
#include "callbacks.h"
#include "checkpoint.h"
#include "json.h"
#include "metrics.h"
#include "metrics_log.h"
#include "progress.h"
#include "tensorboard.h"
#include "trainer.h"
#include "weights.h"
