// The input pipeline: IDX files, MNIST-format data sets and the DataLoader.
#pragma once

#include "dataloader.h"
#include "idx.h"
#include "mnist.h"
