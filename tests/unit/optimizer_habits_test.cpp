// The optimizer keeps its parameters under PyTorch's habits, on the CPU: Module::zero_grad
// (and gradients set to none) followed, Module::to and a second optimizer refused by name
// (tests/support/optimizer_habits.h; the CUDA twin is tests/cuda/optimizer_habits_cuda_test.cpp).
#include "../support/optimizer_habits.h"

namespace tg {
namespace {

TEST(OptimizerHabits, ModuleZeroGradIsFollowed) {
  testing::check_module_zero_grad_is_followed(Device::cpu());
}

TEST(OptimizerHabits, ModuleToAfterTheOptimizerIsRefused) {
  testing::check_module_to_is_refused(Device::cpu(), Device::cpu());
}

TEST(OptimizerHabits, ASecondOptimizerLeavesTheFirstRefusing) {
  testing::check_second_optimizer_is_refused(Device::cpu());
}

}  // namespace
}  // namespace tg
