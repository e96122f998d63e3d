// The blocked batch norm's two transpositions between a group's 16 pooled planes (NCHW, plane
// c at c·out_plane) and its windows blocked like x (nChw16c, window o's 16 channels at
// 16·o): the forward writes its pooled windows out as planes, the backward reads the pooled
// gradient's planes as windows (Note [windows by transposes] in batch_norm_windows.cpp).
// Included by kernels/cpu/batch_norm_blocked.cpp and its test.
#pragma once

#include <cstdint>

namespace tg::kernels::cpu::batch_norm_windows {

constexpr int64_t kGroup = 16;  // channels side by side in nChw16c

// windows[16·o + c] = 0 + planes[c·out_plane + o] for o < out_plane, c < 16: 0 + g, as
// pool2d_backward adds the pooled output's gradient to a zeroed plane (-0 becomes +0).
void to_windows(const float* planes, int64_t out_plane, float* windows);
// planes[c·out_plane + o] = windows[16·o + c] for o < out_plane, c < 16.
void to_planes(const float* windows, int64_t out_plane, float* planes);

// The portable loops, which the two above run where the CPU has no AVX-512F (and the tests
// compare with).
void to_windows_portable(const float* planes, int64_t out_plane, float* windows);
void to_planes_portable(const float* windows, int64_t out_plane, float* planes);
// Whether to_windows and to_planes take the AVX-512 transposes on this CPU.
bool transposes_available();

}  // namespace tg::kernels::cpu::batch_norm_windows
