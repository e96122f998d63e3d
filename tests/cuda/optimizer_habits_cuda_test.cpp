// The optimizer keeps its parameters under PyTorch's habits, on a GPU: the checks of
// tests/support/optimizer_habits.h, plus Module::to(cpu) of a model whose optimizer lives on
// the GPU.
#include "../support/optimizer_habits.h"
#include "../support/parity.h"

namespace tg {
namespace {

TEST(OptimizerHabitsCuda, ModuleZeroGradIsFollowed) {
  TG_REQUIRE_CUDA();
  testing::check_module_zero_grad_is_followed(Device::cuda());
}

TEST(OptimizerHabitsCuda, ModuleToAfterTheOptimizerIsRefused) {
  TG_REQUIRE_CUDA();
  testing::check_module_to_is_refused(Device::cuda(), Device::cpu());
  testing::check_module_to_is_refused(Device::cpu(), Device::cuda());
}

TEST(OptimizerHabitsCuda, ASecondOptimizerLeavesTheFirstRefusing) {
  TG_REQUIRE_CUDA();
  testing::check_second_optimizer_is_refused(Device::cuda());
}

}  // namespace
}  // namespace tg
