// set_flush_denormal / flush_denormal (denormal.h).
#include "denormal.h"

#include <omp.h>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace tg {

namespace {
#if defined(__x86_64__)
constexpr unsigned kFlushBits = 0x8040;  // MXCSR: flush to zero (bit 15), denormals are zero (6)

void set_this_thread(bool on) {
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(on ? (csr | kFlushBits) : (csr & ~kFlushBits));
}
#endif
}  // namespace

bool set_flush_denormal(bool on) {
#if defined(__x86_64__)
  set_this_thread(on);
  // Every thread of the team this thread starts, so ops on any of them agree.
#pragma omp parallel
  set_this_thread(on);
  return true;
#else
  (void)on;
  return false;
#endif
}

bool flush_denormal() {
#if defined(__x86_64__)
  return (_mm_getcsr() & kFlushBits) == kFlushBits;
#else
  return false;
#endif
}

}  // namespace tg
