// The number of threads CPU ops use (LibTorch's at::set_num_threads / get_num_threads): the
// OpenMP threads of our CPU kernels, OpenBLAS (its OpenMP build) and oneDNN, for ops started
// from the calling thread. Our own kernels give the same bits whatever the count (their
// reductions split work by shape, not by thread: Note [long rows], the conv2d filter
// gradient's fixed batch split); float32 matrix products on oneDNN may not (measured: a
// 256×1024·1024×512 product's last bits differ between 1 and 2 threads), so a run repeats bit
// for bit at the same count.
#pragma once

#include "../foundation/config.h"

TG_API_BEGIN

namespace tg {

// n >= 1; the default is OpenMP's (OMP_NUM_THREADS, else one per core).
void set_num_threads(int n);
int get_num_threads();

}  // namespace tg

TG_API_END
