// The fused parameter updates and gradient clipping over flat buffers, one front-end per
// kernel (optim/ builds the optimizers on these): adam.h, sgd.h, adagrad.h, rmsprop.h,
// grad_norm.h (global norm, clip coefficient, clipping by value), step_count.h and
// loss_scale.h (a loss scaler's device state and its update). Every
// buffer is 1-D, contiguous, on one device, of one floating dtype; state buffers may be
// undefined where the option that needs them is off. Nothing here waits for the device.
#pragma once

#include "adagrad.h"
#include "adam.h"
#include "grad_norm.h"
#include "loss_scale.h"
#include "rmsprop.h"
#include "sgd.h"
#include "step_count.h"
