// The consumer's own core/device.h: a common name that tamegrad's headers must not pick up
// (they spell every include "tamegrad/..."). If one did, tamegrad's declarations would be
// missing and the consumer would not compile.
#pragma once
namespace app {
struct Device {
  const char* name = "the consumer's device";
};
}  // namespace app
