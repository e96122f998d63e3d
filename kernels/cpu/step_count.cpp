// CPU launcher of the step-count advance (kernels/step_count.h).
#include "../step_count.h"

namespace tg::kernels::cpu {

void advance_step_count(const StepCountArgs& args) { kernels::advance_step_count(args); }

}  // namespace tg::kernels::cpu
