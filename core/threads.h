// The number of threads CPU ops use (LibTorch's at::set_num_threads / get_num_threads): the
// OpenMP threads of our CPU kernels, OpenBLAS (its OpenMP build) and oneDNN, for ops started
// from the calling thread. Our own kernels give the same bits whatever the count (their
// reductions split work by shape, not by thread: Note [long rows], the conv2d filter
// gradient's fixed batch split), and so do float32 matrix products with oneDNN (C cut by
// shape, each block on one thread: Note [float32 matmul blocks]; oneDNN's sgemm on its own
// threads did not: x·Wᵀ at the MLP's shapes here, a 256×1024·1024×512 product on an Intel
// Xeon). float64 products (OpenBLAS) are not promised that.
#pragma once

#include "../foundation/config.h"

TG_API_BEGIN

namespace tg {

// n >= 1; the default is OpenMP's (OMP_NUM_THREADS, else one per core).
void set_num_threads(int n);
int get_num_threads();

// Note [OpenMP wait policy]
// GNU OpenMP's idle threads spin 300,000 rounds (milliseconds) before they sleep, at every
// barrier and between parallel regions. On a machine busy with other work a spinning thread
// holds a core that the thread with the work needs, and every region waits a scheduler slice
// for it: mnist_train with 2 threads beside two busy processes took 1.4-5.2 s for 20,000
// MLP images against 0.5-1.1 s with one thread, and the CNN 7.5 s against 2.1-2.6 s. With
// GOMP_SPINCOUNT=10000 loaded runs stay near one thread's time and unloaded ones are as fast
// as before or faster (bench/NOTES.md). libgomp reads the variable once, as it is loaded,
// before any code of ours runs (a program's pre-initialisation array runs earlier, but glibc
// resets the environment after it), so the only way to set it from inside is to start the
// program again with it: use_openmp_spin_policy(argv), first thing in main(), sets
// GOMP_SPINCOUNT=10000 and executes the same program again (same process, same arguments),
// unless GOMP_SPINCOUNT or OMP_WAIT_POLICY is already set (the user's choice, or the second
// start). Our example programs and benchmarks call it. Returns only when nothing is to be
// done or the re-execution failed (then the program runs on with libgomp's default).
void use_openmp_spin_policy(char** argv);

}  // namespace tg

TG_API_END
