// What every CPU optimizer update shares (CPU launchers only; the step control,
// step_enabled, is in kernels/update_common.h): the threading threshold. Each
// launcher writes its own loop over local __restrict__ pointers, because a loop body
// reached through a lambda keeps reloading its captured pointers and does not vectorise.
#pragma once

#include "../update_common.h"

namespace tg::kernels::cpu {

constexpr int64_t kUpdateParallelAbove = 1 << 15;

}  // namespace tg::kernels::cpu
