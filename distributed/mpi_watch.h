// Around the MPI group (internal): MPI_Init that cannot wait forever, a report of what a
// rank was doing when the launcher stopped it (Note [stopped by the launcher],
// mpi_watch.cpp; Note [collective time-outs], mpi_group.cpp), and MPI's lifetime in the
// process (finish() is in process_group.h).
#pragma once

#include <string>

namespace tg::distributed::detail {

// MPI_Init_thread(required), with a watchdog: MPI_Init returns only when every rank has
// started, so when it has not returned within `timeout_seconds` the process writes which
// ranks it waits for and exits with code 1 (mpirun then ends the job).
void init_watched(double timeout_seconds, int required, int* provided);

// A SIGTERM handler that writes this rank and its current collective to stderr and ends the
// process, and SIGPIPE ignored (a dead peer's socket then gives an error); neither installed
// over a handler of the program's own.
void install_sigterm_report();

// What this rank is doing now ("rank 0 of 2 (host h1)", "all_reduce with rank 1 (host
// h2)"), for that report; clear_activity when the collective is done.
void set_activity(const std::string& who, const std::string& what);
void clear_activity();

// MPI initialised once per process (watched, errors returned as codes, the SIGTERM report
// installed, finish() at exit); later calls return at once.
void ensure_initialized(double timeout_seconds);
// The thread support MPI gave (MPI_THREAD_*).
int mpi_thread_level();
// A collective timed out with requests that cannot be cancelled: finish() must abort.
void mark_mpi_broken();
bool mpi_broken();

}  // namespace tg::distributed::detail
