// Batch norm + ReLU + 2x2 max pooling over float32 data in oneDNN's nChw16c layout (Note [conv
// block] in kernels/batch_norm.h): stages 1 and 3 of kernels/cpu/batch_norm.cpp's passes
// (Note [batch norm blocks]) for a group of 16 channels at a time, in the NCHW passes' lanes
// and order. Stage 2 (per channel) is shared. Included by batch_norm.cpp only.
#pragma once

#include <cstdint>

#include "../batch_norm.h"
#include "batch_norm_lanes.h"

namespace tg::kernels::cpu::batch_norm_blocked {

constexpr int64_t kGroup = 16;  // channels side by side in nChw16c

// Stage 1: the (mean, M2) summaries of block b's elements of channels 16·group.. +15, into
// summaries[2 · (b · C + c)] as the NCHW pass writes them.
void forward_summary(const BatchNormForwardArgs& a, batch_norm_parts::Blocks blocks, int64_t b,
                     int64_t group, double* summaries);
// Stage 3: sample n's planes of the group, normalised, ReLU'd and pooled into a.pooled (NCHW),
// the windows' codes into a.window_codes.
void forward_planes(const BatchNormForwardArgs& a, int64_t n, int64_t group);
// Stage 1 of the backward: Σg and Σg·(x - mean) per channel, g the pooling's gradient gated by
// the ReLU (sent to the pixel each window's code names).
void backward_summary(const BatchNormBackwardArgs& a, batch_norm_parts::Blocks blocks, int64_t b,
                      int64_t group, double* summaries);
// Stage 3 of the backward: sample n's planes of the group of grad_x (blocked), from the
// channels' terms (3 floats a channel, as BatchNormBackwardArgs::terms holds them), into
// `out` (hw·16 floats).
void backward_planes(const BatchNormBackwardArgs& a, const float* terms, int64_t n, int64_t group,
                     float* out);

}  // namespace tg::kernels::cpu::batch_norm_blocked
