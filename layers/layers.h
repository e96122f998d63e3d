// Every layer, the Module base and the initialisers.
#pragma once

#include "tamegrad/layers/activation.h"
#include "tamegrad/layers/batchnorm.h"
#include "tamegrad/layers/checkpoint.h"
#include "tamegrad/layers/conv2d.h"
#include "tamegrad/layers/dropout.h"
#include "tamegrad/layers/ensemble.h"
#include "tamegrad/layers/init.h"
#include "tamegrad/layers/linear.h"
#include "tamegrad/layers/loss.h"
#include "tamegrad/layers/module.h"
#include "tamegrad/layers/pooling.h"
#include "tamegrad/layers/sequential.h"
