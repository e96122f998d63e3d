// The input pipeline: IDX files, MNIST-format data sets, Datasets with transforms and the
// DataLoader.
#pragma once

#include "dataloader.h"
#include "dataset.h"
#include "idx.h"
#include "mnist.h"
