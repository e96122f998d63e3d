// Max pooling 2x2, stride 2, of one pair of rows, for the CPU launchers that pool what they
// have just computed (kernels/cpu/pool.cpp's own planes; batch norm + ReLU + pooling: Note
// [batch norm + relu + pool] in kernels/batch_norm.h). rows[0, in_w) and rows[in_w, 2·in_w)
// are plane rows top / in_w and the next; y and argmax get out_w outputs (out_w <= in_w / 2,
// in_w < 2^30) and each output's position in the plane (top + its offset in the two rows):
// max_pool_element's rule and bits, in AVX-512 lanes where the CPU has them (Note [pooling
// lanes]).
#pragma once

#include <cstdint>

namespace tg::kernels::cpu {

void max_pool_2x2_rows(const float* rows, int64_t in_w, int64_t out_w, int64_t top, float* y,
                       int64_t* argmax);
void max_pool_2x2_rows(const double* rows, int64_t in_w, int64_t out_w, int64_t top, double* y,
                       int64_t* argmax);

}  // namespace tg::kernels::cpu
