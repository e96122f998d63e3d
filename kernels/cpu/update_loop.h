// The loop every CPU optimizer update runs (CPU launchers only): honours the step control
// (Note [step control], kernels/update_common.h), then applies `element(i, scale)` to every
// parameter, threaded and vectorisable.
#pragma once

#include "kernels/update_common.h"

namespace tg::kernels::cpu {

template <typename T, typename Element>
void for_each_parameter(int64_t n, const StepControl& control, Element element) {
  if (control.skip != nullptr && *control.skip != 0) return;
  const T scale = control.grad_scale != nullptr ? static_cast<T>(*control.grad_scale) : T(1);
#pragma omp parallel for simd schedule(static) if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) element(i, scale);
}

}  // namespace tg::kernels::cpu
