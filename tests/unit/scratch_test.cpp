// Note [scratch memory]: the allocator core hands to CUDA launchers, exercised on the CPU
// (the same Storage path): blocks of the asked size, guarded when the context guards,
// and a write past a block's end stops the process naming it.
#include <gtest/gtest.h>

#include <cstring>

#include "../../core/context.h"
#include "../../core/ops/op_support.h"

namespace tg {
namespace {

TEST(Scratch, BlocksComeFromTheContextsAllocator) {
  const kernels::ScratchAllocator a = ops::scratch_allocator(Device::cpu());
  ASSERT_NE(a.allocate, nullptr);
  ASSERT_NE(a.release, nullptr);
  void* handle = nullptr;
  void* block = a.allocate(a.context, 1000, &handle);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 64, 0u) << "64-byte aligned, as Storage";
  std::memset(block, 0x5a, 1000);
  a.release(a.context, handle);
}

TEST(ScratchDeathTest, AWritePastTheBlockIsCaughtWhenGuarded) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        context(Device::cpu()).set_allocation_guards(true);
        const kernels::ScratchAllocator a = ops::scratch_allocator(Device::cpu());
        void* handle = nullptr;
        auto* block = static_cast<unsigned char*>(a.allocate(a.context, 64, &handle));
        block[64] = 0;  // one byte past the end: into the guard
        a.release(a.context, handle);
      },
      "a kernel wrote outside its 64-byte scratch block on cpu");
}

}  // namespace
}  // namespace tg
