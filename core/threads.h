// The number of threads CPU ops use (LibTorch's at::set_num_threads / get_num_threads): the
// OpenMP threads of our CPU kernels, OpenBLAS (its OpenMP build) and oneDNN, for ops started
// from the calling thread. Our own kernels give the same bits whatever the count (their
// reductions split work by shape, not by thread: Note [long rows], the conv2d filter
// gradient's fixed batch split), and so do float32 x·Wᵀ products (Linear's forward: C cut by
// shape, each block on one thread, Note [float32 matmul blocks]; oneDNN's sgemm on its own
// threads gave the MLP's x·W1ᵀ different bits on 1 and 2 threads). The other float32 products
// run on that sgemm: every shape tried on an AMD EPYC gave the same bits on 1 and 2 threads,
// but a 256×1024·1024×512 product's last bits differed on an Intel Xeon; float64 products
// (OpenBLAS) are not promised it either.
#pragma once

#include "../foundation/config.h"

TG_API_BEGIN

namespace tg {

// n >= 1; the default is OpenMP's (OMP_NUM_THREADS, else one per core), fewer while the
// machine is busy (Note [threads under load]). A count set here, or by OMP_NUM_THREADS, is kept
// as it is. get_num_threads: the count the next parallel region of the calling thread gets.
void set_num_threads(int n);
int get_num_threads();

// Note [threads under load]
// With the default count, CPU work runs on fewer threads while other processes keep the
// machine's cores busy: a static OpenMP split waits at every barrier for its slowest thread,
// and a thread that shares its core with a busy process runs at half speed or waits a
// scheduler slice, so on 2 cores beside two busy processes mnist_train's MLP took 1.4-2.2 s for
// 20,000 images with 2 threads against 0.9-1.1 s with one (bench/NOTES.md). Each backward
// (autograd's engine calls adapt_threads_to_load, at most every 20 ms) reads the number of
// runnable tasks from /proc/loadavg and takes the online cores less the busy ones as the count
// (at least one, at most the default), counting this process's own team as running; a count
// is taken when two looks in a row agree on it. Our kernels and float32 x·Wᵀ products give the
// same bits on any count, so the load changes how long a step takes; where sgemm's bits depend
// on the count (the other float32 products on some CPUs, see above), a step on a busy machine
// may differ from an idle one in its last bits.
void adapt_threads_to_load();
namespace threads_detail {
// The count for `running` runnable tasks (ours included: a team of `team` threads) on `online`
// cores, between 1 and `ceiling`.
int threads_for_load(int ceiling, int online, int running, int team);
// The runnable tasks in /proc/loadavg's text ("0.50 0.40 0.30 3/120 4567"), or -1.
int running_tasks(const char* loadavg);
}  // namespace threads_detail

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
