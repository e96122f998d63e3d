// The consumer's own kernels/common.h (see own/core/device.h).
#pragma once
namespace app {
constexpr int kCommon = 42;
}  // namespace app
