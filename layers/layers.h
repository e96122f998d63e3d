// Every layer, the Module base and the initialisers.
#pragma once

#include "activation.h"
#include "batch_norm.h"
#include "checkpoint.h"
#include "containers.h"
#include "conv2d.h"
#include "dropout.h"
#include "embedding.h"
#include "ensemble.h"
#include "init.h"
#include "layer_norm.h"
#include "linear.h"
#include "loss.h"
#include "module.h"
#include "pool.h"
#include "residual.h"
#include "sequential.h"
